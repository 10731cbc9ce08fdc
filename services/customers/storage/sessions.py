"""Refresh sessions: token hashes, families, rotation and revocation."""

from __future__ import annotations

from datetime import timedelta
from uuid import UUID

import asyncpg

from shared.db import DbConn

# --- Refresh sessions ----------------------------------------------------------------------


async def insert_session(
    conn: DbConn, token_hash: bytes, family_id: UUID, customer_id: UUID, ttl_s: int
) -> None:
    await conn.execute(
        "INSERT INTO refresh_sessions (token_hash, family_id, customer_id, expires_at)"
        " VALUES ($1, $2, $3, now() + $4::interval)",
        token_hash,
        family_id,
        customer_id,
        timedelta(seconds=ttl_s),
    )


async def lock_session(conn: DbConn, token_hash: bytes) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT family_id, customer_id, expires_at <= now() AS expired, rotated_at, revoked_at"
        " FROM refresh_sessions WHERE token_hash = $1 FOR UPDATE",
        token_hash,
    )
    return row


async def mark_rotated(conn: DbConn, token_hash: bytes) -> None:
    await conn.execute(
        "UPDATE refresh_sessions SET rotated_at = now() WHERE token_hash = $1", token_hash
    )


async def revoke_family(conn: DbConn, family_id: UUID) -> None:
    await conn.execute(
        "UPDATE refresh_sessions SET revoked_at = now() WHERE family_id = $1"
        " AND revoked_at IS NULL",
        family_id,
    )


async def revoke_customer_sessions(conn: DbConn, customer_id: UUID) -> int:
    """Revoke every refresh session of a customer (password change, erasure)."""
    result: str = await conn.execute(
        "UPDATE refresh_sessions SET revoked_at = now() WHERE customer_id = $1"
        " AND revoked_at IS NULL",
        customer_id,
    )
    return int(result.split()[-1])


async def end_web_sessions(conn: DbConn, customer_id: UUID) -> None:
    """Sign the customer out of the account pages everywhere (password change, erasure)."""
    await conn.execute("DELETE FROM web_sessions WHERE customer_id = $1", customer_id)
