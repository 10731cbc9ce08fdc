"""Orders, their lines and status history; the customer's own orders (paging, export)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from shared.db import DbConn

from ..domain import Cursor, PaymentMethod, PricedLine, Status


@dataclass(frozen=True)
class NewOrder:
    id: UUID
    order_ref: str
    customer_id: UUID
    payment_method: PaymentMethod
    courier: str
    total: int


async def insert_order(conn: DbConn, order: NewOrder) -> datetime | None:
    """Insert the order row and answer its creation time; None if its order_ref is already
    taken (nothing written)."""
    created_at: datetime | None = await conn.fetchval(
        "INSERT INTO orders (id, order_ref, customer_id, status, payment_method, courier,"
        " total_amount) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (order_ref) DO NOTHING RETURNING created_at",
        order.id,
        order.order_ref,
        order.customer_id,
        Status.PLACED.value,
        order.payment_method,
        order.courier,
        order.total,
    )
    return created_at


async def insert_lines(conn: DbConn, order_id: UUID, lines: Sequence[PricedLine]) -> None:
    await conn.executemany(
        "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit_price, quantity,"
        " regular_price, promotion_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        [
            (
                order_id,
                n,
                line.product_id,
                line.sku,
                line.name,
                line.unit_price,
                line.quantity,
                line.regular_price,
                line.promotion_id,
            )
            for n, line in enumerate(lines, start=1)
        ],
    )


async def add_history(conn: DbConn, order_id: UUID, status: Status, cause: str) -> None:
    await conn.execute(
        "INSERT INTO order_status_history (order_id, status, cause) VALUES ($1, $2, $3)",
        order_id,
        status.value,
        cause,
    )


async def set_status(conn: DbConn, order_id: UUID, status: Status) -> None:
    await conn.execute(
        "UPDATE orders SET status = $2, updated_at = now() WHERE id = $1", order_id, status.value
    )


_ORDER_COLUMNS = (
    "o.id, o.order_ref, o.customer_id, o.status, o.payment_method, o.courier, o.total_amount,"
    " o.currency, o.created_at, o.needs_attention_at, o.weight_g,"
    " EXISTS (SELECT 1 FROM dispatches d WHERE d.order_id = o.id) AS dispatch_requested,"
    " EXISTS (SELECT 1 FROM dispatches d WHERE d.order_id = o.id AND d.release_id IS NOT NULL)"
    " AS dispatch_released"
)


async def lock_order(conn: DbConn, order_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.id = $1 FOR UPDATE OF o",  # noqa: S608
        order_id,
    )
    return row


async def order_owner(conn: DbConn, order_id: UUID) -> asyncpg.Record | None:
    """Whose an order is and where it stands (support's contact lookup asks this)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, order_ref, customer_id, status, created_at, updated_at FROM orders"
        " WHERE id = $1",
        order_id,
    )
    return row


async def customer_order(conn: DbConn, customer_id: UUID, order_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.id = $1 AND o.customer_id = $2",  # noqa: S608
        order_id,
        customer_id,
    )
    return row


async def customer_orders(
    conn: DbConn, customer_id: UUID, limit: int, after: Cursor | None = None
) -> list[asyncpg.Record]:
    """The customer's orders, newest first, after the cursor (keyset paging)."""
    if after is None:
        return list(
            await conn.fetch(
                f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.customer_id = $1"  # noqa: S608
                " ORDER BY o.created_at DESC, o.id DESC LIMIT $2",
                customer_id,
                limit,
            )
        )
    return list(
        await conn.fetch(
            f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.customer_id = $1"  # noqa: S608
            " AND (o.created_at, o.id) < ($2, $3)"
            " ORDER BY o.created_at DESC, o.id DESC LIMIT $4",
            customer_id,
            after.created_at,
            after.order_id,
            limit,
        )
    )


async def order_lines(conn: DbConn, order_ids: Sequence[UUID]) -> dict[UUID, list[asyncpg.Record]]:
    rows = await conn.fetch(
        "SELECT order_id, product_id, sku, name, unit_price, quantity, regular_price,"
        " promotion_id FROM order_lines"
        " WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, line_no",
        list(order_ids),
    )
    return _group(rows)


async def order_history(
    conn: DbConn, order_ids: Sequence[UUID]
) -> dict[UUID, list[asyncpg.Record]]:
    rows = await conn.fetch(
        "SELECT order_id, status, cause, at FROM order_status_history"
        " WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, id",
        list(order_ids),
    )
    return _group(rows)


def _group(rows: Sequence[asyncpg.Record]) -> dict[UUID, list[asyncpg.Record]]:
    grouped: dict[UUID, list[asyncpg.Record]] = {}
    for row in rows:
        grouped.setdefault(row["order_id"], []).append(row)
    return grouped


async def set_weight(conn: DbConn, order_id: UUID, weight_g: int) -> None:
    await conn.execute("UPDATE orders SET weight_g = $2 WHERE id = $1", order_id, weight_g)


async def order_units(conn: DbConn, order_id: UUID) -> int:
    units: int = await conn.fetchval(
        "SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE order_id = $1", order_id
    )
    return units


async def all_customer_orders(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.customer_id = $1"  # noqa: S608
            " ORDER BY o.created_at DESC, o.id DESC",
            customer_id,
        )
    )
