"""An erased customer's traces in orders: the open obligations that defer an erasure, and
the rows that lose the customer's id (orders unlinked, carts and checkout keys deleted)."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from shared.db import DbConn

# An order the shop still owes something on: delivery, payment or the refund of a payment.
OPEN_ORDER_STATUSES = ("placed", "awaiting_payment", "paid", "dispatched")


async def open_obligations(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    """The customer's orders still in delivery and those with a refund still open."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT o.order_ref, o.status,"
        " CASE WHEN o.status = ANY($2::text[]) THEN 'order' ELSE 'refund' END AS kind"
        " FROM orders o LEFT JOIN payments p ON p.order_id = o.id"
        " WHERE o.customer_id = $1"
        " AND (o.status = ANY($2::text[]) OR p.status = 'refund_requested')"
        " ORDER BY o.created_at, o.id",
        customer_id,
        list(OPEN_ORDER_STATUSES),
    )
    return rows


async def forget_release_ids(conn: DbConn, customer_id: UUID) -> int:
    """The customer's dispatches forget the release id: it is the key of the customers
    service's disclosure register, which names the customer (run before the unlinking)."""
    result: str = await conn.execute(
        "UPDATE dispatches SET release_id = NULL, updated_at = now()"
        " WHERE order_id IN (SELECT id FROM orders WHERE customer_id = $1)"
        " AND release_id IS NOT NULL",
        customer_id,
    )
    return int(result.split()[-1])


async def unlink_orders(conn: DbConn, customer_id: UUID) -> int:
    """Orders keep their totals, lines, payments and history (accounting), without the
    customer id."""
    result: str = await conn.execute(
        "UPDATE orders SET customer_id = NULL, updated_at = now() WHERE customer_id = $1",
        customer_id,
    )
    return int(result.split()[-1])


async def delete_customer_carts(conn: DbConn, customer_id: UUID) -> int:
    result: str = await conn.execute("DELETE FROM carts WHERE customer_id = $1", customer_id)
    return int(result.split()[-1])


async def delete_checkout_keys(conn: DbConn, customer_id: UUID) -> int:
    """The checkout idempotency keys: no retry can come from an erased account."""
    result: str = await conn.execute(
        "DELETE FROM checkout_requests WHERE customer_id = $1", customer_id
    )
    return int(result.split()[-1])


async def delete_account_velocity(conn: DbConn, customer_id: UUID) -> int:
    """The account's checkout counters (they would expire within minutes; the network's
    stay, they name no account)."""
    result: str = await conn.execute(
        "DELETE FROM checkout_velocity WHERE scope = 'account' AND subject = $1",
        str(customer_id),
    )
    return int(result.split()[-1])
