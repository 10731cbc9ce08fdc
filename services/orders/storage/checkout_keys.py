"""Checkout idempotency: a key per customer claims one order, before the order is written."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from shared.db import DbConn


async def claim_checkout_key(
    conn: DbConn, customer_id: UUID, key: str, body_hash: str, order_id: UUID
) -> bool:
    """Claim the key for a new order; False if it is taken (waits for a concurrent claim)."""
    claimed = await conn.fetchval(
        "INSERT INTO checkout_requests (customer_id, idempotency_key, request_hash, order_id)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
        customer_id,
        key,
        body_hash,
        order_id,
    )
    return bool(claimed)


async def find_checkout_key(conn: DbConn, customer_id: UUID, key: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT c.request_hash, o.id, o.status, o.order_ref FROM checkout_requests c"
        " JOIN orders o ON o.id = c.order_id"
        " WHERE c.customer_id = $1 AND c.idempotency_key = $2",
        customer_id,
        key,
    )
    return row
