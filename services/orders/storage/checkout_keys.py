"""Checkout idempotency: a key per customer claims one order, before the order is written."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import asyncpg

from shared.blocking import BLOCKED_EXPRESSION
from shared.db import DbConn

_BLOCKED = BLOCKED_EXPRESSION.format(customer="$1")
_FIND_KEY_AND_BLOCK = (
    f"SELECT c.request_hash, o.id, o.status, o.order_ref, {_BLOCKED} AS blocked"  # noqa: S608 (fixed SQL)
    " FROM (SELECT 1) AS one"
    " LEFT JOIN checkout_requests c ON c.customer_id = $1 AND c.idempotency_key = $2"
    " LEFT JOIN orders o ON o.id = c.order_id"
)
_CLAIM_CHECK_LOCK = (
    "WITH claim AS ("  # noqa: S608 (fixed SQL)
    "  INSERT INTO checkout_requests (customer_id, idempotency_key, request_hash, order_id)"
    "  VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true AS claimed)"
    f" SELECT EXISTS (SELECT 1 FROM claim) AS claimed, {_BLOCKED} AS blocked,"
    " (SELECT 1 FROM carts WHERE id = $5 FOR UPDATE) AS locked"
)


async def find_checkout_key(conn: DbConn, customer_id: UUID, key: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT c.request_hash, o.id, o.status, o.order_ref FROM checkout_requests c"
        " JOIN orders o ON o.id = c.order_id"
        " WHERE c.customer_id = $1 AND c.idempotency_key = $2",
        customer_id,
        key,
    )
    return row


@dataclass(frozen=True)
class KeyAndBlock:
    """What checkout asks first: the order a key placed already (None if none), and
    whether the customer has blocked processing."""

    existing: asyncpg.Record | None
    blocked: bool


async def find_checkout_key_and_block(conn: DbConn, customer_id: UUID, key: str) -> KeyAndBlock:
    """``find_checkout_key`` and ``shared.blocking.is_blocked`` in one round trip."""
    row = await conn.fetchrow(_FIND_KEY_AND_BLOCK, customer_id, key)
    assert row is not None
    return KeyAndBlock(row if row["id"] is not None else None, row["blocked"])


@dataclass(frozen=True)
class Claim:
    claimed: bool  # False: the key is taken (by a concurrent or an earlier checkout)
    blocked: bool


async def claim_key_check_block_lock_cart(
    conn: DbConn,
    customer_id: UUID,
    key: str,
    body_hash: str,
    order_id: UUID,
    cart_id: UUID | None,
) -> Claim:
    """``claim_checkout_key``, ``is_blocked`` and the cart's row lock in one round trip. The
    cart's lines must be read by a later statement: this one's snapshot is from before the
    lock was granted."""
    row = await conn.fetchrow(
        _CLAIM_CHECK_LOCK,
        customer_id,
        key,
        body_hash,
        order_id,
        cart_id,
    )
    assert row is not None
    return Claim(row["claimed"], row["blocked"])
