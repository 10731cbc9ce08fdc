"""Sign-in throttling (locks per account, network and password) and refresh sessions."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, timedelta
from uuid import UUID

import asyncpg

from shared.db import DbConn

# --- Sign-in throttling --------------------------------------------------------------------

ThrottleKey = tuple[str, bytes]  # (scope, key): account blind index, network, password


async def locked_until(conn: DbConn, keys: Sequence[ThrottleKey]) -> datetime | None:
    """The latest lock still running on any of the keys, or None."""
    value: datetime | None = await conn.fetchval(
        "SELECT max(locked_until) FROM login_throttle"
        " WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))"
        " AND locked_until > now()",
        [scope for scope, _ in keys],
        [key for _, key in keys],
    )
    return value


async def record_failure(
    conn: DbConn, key: ThrottleKey, *, max_failures: int, window_s: int, lockout_s: int
) -> None:
    """Count a failure in the window; reaching the limit locks the key for ``lockout_s``."""
    window = timedelta(seconds=window_s)
    failures: int = await conn.fetchval(
        "INSERT INTO login_throttle AS t (scope, key, failures, window_start)"
        " VALUES ($1, $2, 1, now()) ON CONFLICT (scope, key) DO UPDATE SET"
        " failures = CASE WHEN t.window_start < now() - $3::interval THEN 1"
        " ELSE t.failures + 1 END,"
        " window_start = CASE WHEN t.window_start < now() - $3::interval THEN now()"
        " ELSE t.window_start END"
        " RETURNING failures",
        key[0],
        key[1],
        window,
    )
    if failures >= max_failures:
        await conn.execute(
            "UPDATE login_throttle SET locked_until = now() + $3::interval, failures = 0,"
            " window_start = now() WHERE scope = $1 AND key = $2",
            key[0],
            key[1],
            timedelta(seconds=lockout_s),
        )


async def clear_throttle(conn: DbConn, key: ThrottleKey) -> None:
    await conn.execute("DELETE FROM login_throttle WHERE scope = $1 AND key = $2", *key)


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
