"""Customer rows: insert, read, find by a login's blind index, update."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from shared.db import DbConn


class Conflict(Exception):
    """An email or phone is already taken (the caller does not say which)."""


@dataclass(frozen=True)
class CustomerRow:
    id: UUID
    status: str
    locale: str
    password_hash: str | None
    policy_version: str
    created_at: datetime
    blocked_at: datetime | None = None  # when the block in force took effect


async def insert_customer(
    conn: DbConn,
    customer_id: UUID,
    *,
    locale: str,
    password_hash: str,
    email_index: bytes,
    phone_index: bytes,
    policy_version: str,
) -> None:
    """The customer's row (its data key is already in the key store: ``accounts.register``)."""
    try:
        await conn.execute(
            "INSERT INTO customers (id, locale, password_hash, email_index, phone_index,"
            " policy_version) VALUES ($1, $2, $3, $4, $5, $6)",
            customer_id,
            locale,
            password_hash,
            email_index,
            phone_index,
            policy_version,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict from None


async def get_customer(conn: DbConn, customer_id: UUID) -> CustomerRow | None:
    row = await conn.fetchrow(
        "SELECT id, status, locale, password_hash, policy_version, created_at, blocked_at"
        " FROM customers WHERE id = $1",
        customer_id,
    )
    return CustomerRow(**dict(row)) if row else None


_LOGIN_QUERIES = {
    "email_index": "SELECT id, status, locale, password_hash, policy_version, created_at"
    " FROM customers WHERE email_index = $1 AND status <> 'erased'",
    "phone_index": "SELECT id, status, locale, password_hash, policy_version, created_at"
    " FROM customers WHERE phone_index = $1 AND status <> 'erased'",
}


async def find_login(conn: DbConn, column: str, index: bytes) -> CustomerRow | None:
    row = await conn.fetchrow(_LOGIN_QUERIES[column], index)
    return CustomerRow(**dict(row)) if row else None


async def update_customer(
    conn: DbConn,
    customer_id: UUID,
    *,
    locale: str | None = None,
    email_index: bytes | None = None,
    phone_index: bytes | None = None,
    password_hash: str | None = None,
    policy_version: str | None = None,
) -> None:
    try:
        await conn.execute(
            "UPDATE customers SET locale = coalesce($2, locale),"
            " email_index = coalesce($3, email_index), phone_index = coalesce($4, phone_index),"
            " password_hash = coalesce($5, password_hash),"
            " policy_version = coalesce($6, policy_version), updated_at = now() WHERE id = $1",
            customer_id,
            locale,
            email_index,
            phone_index,
            password_hash,
            policy_version,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict from None


# --- Blocking ------------------------------------------------------------------------------


@dataclass(frozen=True)
class BlockState:
    status: str
    blocked_at: datetime | None
    version: int


async def lock_block_state(conn: DbConn, customer_id: UUID) -> BlockState | None:
    """The customer's status, locked for the block or unblock that follows."""
    row = await conn.fetchrow(
        "SELECT status, blocked_at, block_version FROM customers WHERE id = $1 FOR UPDATE",
        customer_id,
    )
    return BlockState(row["status"], row["blocked_at"], row["block_version"]) if row else None


async def set_block_state(conn: DbConn, customer_id: UUID, blocked: bool, at: datetime) -> int:
    """Block (since ``at``) or unblock; the new version of the state (one more per change)."""
    version: int = await conn.fetchval(
        "UPDATE customers SET status = CASE WHEN $2 THEN 'blocked' ELSE 'active' END,"
        " blocked_at = CASE WHEN $2 THEN $3::timestamptz END,"
        " block_version = block_version + 1, updated_at = now()"
        " WHERE id = $1 AND status <> 'erased' RETURNING block_version",
        customer_id,
        blocked,
        at,
    )
    return version
