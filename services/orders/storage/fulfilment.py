"""Dispatches, the couriers' callbacks, and dispatched orders the courier has not confirmed."""

from __future__ import annotations

from collections.abc import Sequence
from uuid import UUID

import asyncpg

from shared.db import DbConn


async def insert_dispatch(conn: DbConn, dispatch_id: UUID, order_id: UUID, courier: str) -> None:
    await conn.execute(
        "INSERT INTO dispatches (id, order_id, courier, status) VALUES ($1, $2, $3, 'requested')",
        dispatch_id,
        order_id,
        courier,
    )


async def get_dispatch(conn: DbConn, dispatch_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, order_id, courier, status, release_id FROM dispatches WHERE id = $1",
        dispatch_id,
    )
    return row


async def order_dispatch(conn: DbConn, order_id: UUID) -> asyncpg.Record | None:
    """The order's dispatch, locked (take the order's lock first: one lock order everywhere)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, order_id, courier, status, release_id FROM dispatches"
        " WHERE order_id = $1 FOR UPDATE",
        order_id,
    )
    return row


async def order_dispatches(conn: DbConn, order_ids: Sequence[UUID]) -> dict[UUID, asyncpg.Record]:
    """The dispatch of each of these orders that has one (their export), one query."""
    rows = await conn.fetch(
        "SELECT order_id, courier, status, release_id, created_at, updated_at, cancelled_at"
        " FROM dispatches WHERE order_id = ANY($1::uuid[])",
        list(order_ids),
    )
    return {row["order_id"]: row for row in rows}


async def cancel_dispatch(conn: DbConn, dispatch_id: UUID) -> None:
    await conn.execute(
        "UPDATE dispatches SET status = 'cancelled', cancelled_at = coalesce(cancelled_at, now()),"
        " updated_at = now() WHERE id = $1",
        dispatch_id,
    )


async def set_dispatch_status(
    conn: DbConn, dispatch_id: UUID, status: str, release_id: UUID | None = None
) -> None:
    await conn.execute(
        "UPDATE dispatches SET status = $2, release_id = coalesce($3, release_id),"
        " updated_at = now() WHERE id = $1",
        dispatch_id,
        status,
        release_id,
    )


async def record_courier_callback(
    conn: DbConn, courier: str, event_id: UUID, dispatch_id: UUID, status: str
) -> bool:
    """Record a courier event; False when this event id was applied before (a replay)."""
    fresh = await conn.fetchval(
        "INSERT INTO courier_callbacks (courier, event_id, dispatch_id, status)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
        courier,
        event_id,
        dispatch_id,
        status,
    )
    return bool(fresh)


async def flag_unconfirmed_dispatches(
    conn: DbConn, older_than_s: int, limit: int
) -> list[asyncpg.Record]:
    """Mark dispatched orders without a courier confirmation for too long; return them."""
    return list(
        await conn.fetch(
            "UPDATE orders SET needs_attention_at = now() WHERE id IN ("
            " SELECT id FROM orders WHERE status = 'dispatched' AND needs_attention_at IS NULL"
            " AND updated_at < now() - make_interval(secs => $1)"
            " ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, order_ref, status",
            float(older_than_s),
            limit,
        )
    )


async def orders_needing_attention(conn: DbConn, limit: int) -> list[asyncpg.Record]:
    """Dispatched orders raised for support and still unresolved, oldest first."""
    return list(
        await conn.fetch(
            "SELECT o.id, o.order_ref, o.status, o.courier, o.updated_at AS dispatched_at,"
            " o.needs_attention_at, d.id AS dispatch_id FROM orders o"
            " LEFT JOIN dispatches d ON d.order_id = o.id"
            " WHERE o.needs_attention_at IS NOT NULL AND o.status = 'dispatched'"
            " ORDER BY o.needs_attention_at, o.id LIMIT $1",
            limit,
        )
    )
