"""Card payments, the bank's callbacks, and payments whose window closed."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from shared.db import DbConn

from ..domain import PaymentStatus


async def insert_payment(
    conn: DbConn, payment_id: UUID, order_id: UUID, bank: str, amount: int, timeout_s: int
) -> None:
    await conn.execute(
        "INSERT INTO payments (id, order_id, bank, amount, status, expires_at)"
        " VALUES ($1, $2, $3, $4, 'requested', now() + make_interval(secs => $5))",
        payment_id,
        order_id,
        bank,
        amount,
        float(timeout_s),
    )


_PAYMENT_COLUMNS = "id, order_id, bank, amount, currency, status, expires_at, updated_at"


async def get_payment(conn: DbConn, payment_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE id = $1",  # noqa: S608
        payment_id,
    )
    return row


async def lock_order_payment(conn: DbConn, order_id: UUID) -> asyncpg.Record | None:
    """The order's payment, locked (take the order's lock first: one lock order everywhere)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 FOR UPDATE",  # noqa: S608
        order_id,
    )
    return row


async def set_payment_status(conn: DbConn, payment_id: UUID, status: PaymentStatus) -> None:
    await conn.execute(
        "UPDATE payments SET status = $2, updated_at = now() WHERE id = $1",
        payment_id,
        status.value,
    )


async def order_payments(conn: DbConn, order_ids: Sequence[UUID]) -> dict[UUID, asyncpg.Record]:
    rows = await conn.fetch(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE order_id = ANY($1::uuid[])",  # noqa: S608
        list(order_ids),
    )
    return {row["order_id"]: row for row in rows}


async def record_payment_callback(
    conn: DbConn, bank: str, event_id: UUID, payment_id: UUID, status: str, body_hash: str
) -> str | None:
    """Record a bank event; None when new, else the body hash it was first recorded with."""
    fresh = await conn.fetchval(
        "INSERT INTO payment_callbacks (bank, event_id, payment_id, status, body_hash)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        bank,
        event_id,
        payment_id,
        status,
        body_hash,
    )
    if fresh:
        return None
    known: str = await conn.fetchval(
        "SELECT body_hash FROM payment_callbacks WHERE bank = $1 AND event_id = $2",
        bank,
        event_id,
    )
    return known


async def lock_expired_payment_orders(conn: DbConn, limit: int) -> list[UUID]:
    """Orders whose payment window closed, locked; rows another worker holds are skipped."""
    rows = await conn.fetch(
        "SELECT o.id FROM orders o JOIN payments p ON p.order_id = o.id"
        " WHERE p.status = 'requested' AND p.expires_at < now()"
        " AND o.status = 'awaiting_payment'"
        " ORDER BY p.expires_at LIMIT $1 FOR UPDATE OF o SKIP LOCKED",
        limit,
    )
    return [row["id"] for row in rows]
