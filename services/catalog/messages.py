"""Handlers of the events the catalog consumes (queue ``catalog.events``).

Each runs inside the consumer's transaction that records the message in the inbox, so its
writes and the events it enqueues commit together, once.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

from aiohttp import web

from services.catalog import storage
from services.catalog.domain import merge_lines, plan_reservation
from services.catalog.stock_alerts import check_stock
from shared.contracts import (
    Contract,
    OrderCancelled,
    OrderDelivered,
    OrderFailed,
    OrderPlaced,
    StockRejected,
    StockReleased,
    StockReserved,
)
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import IncomingMeta, enqueue

QUEUE = "catalog.events"
log = get_logger("catalog.messages")
MessageHandler = Callable[[DbConn, Any, IncomingMeta], Awaitable[None]]


async def on_order_placed(conn: DbConn, event: OrderPlaced, meta: IncomingMeta) -> None:
    """Reserve every line or none. The reservation row is claimed first, so a second
    OrderPlaced for the order (even a concurrent one) waits for the first and does nothing."""
    if not await storage.claim_order(conn, event.order_id, "reserved"):
        log.info("order already handled", order_id=str(event.order_id))
        return
    wanted = merge_lines(event.lines)
    stock = await storage.lock_stock(conn, list(wanted))
    plan = plan_reservation(wanted, stock)
    correlation = meta.correlation_id or str(event.order_id)
    if plan.reason is not None:
        await storage.set_status(conn, event.order_id, "rejected")
        rejected = StockRejected(
            order_id=event.order_id, reason=plan.reason, product_ids=plan.problem_ids
        )
        await enqueue(conn, rejected, correlation_id=correlation)
        log.info("stock rejected", order_id=str(event.order_id), reason=plan.reason)
        return
    await storage.take_stock(conn, event.order_id, plan.wanted)
    await check_stock(conn, list(plan.wanted))
    reserved = StockReserved(order_id=event.order_id, weight_g=plan.weight_g)
    await enqueue(conn, reserved, correlation_id=correlation)
    log.info("stock reserved", order_id=str(event.order_id))


async def on_order_undelivered(
    conn: DbConn, event: OrderCancelled | OrderFailed, meta: IncomingMeta
) -> None:
    """Cancelled, or failed (dispatch refused, courier could not deliver: the parcel comes
    back): return a live reservation to stock, once. A cancellation that overtakes its
    OrderPlaced leaves a 'released' tombstone, so the late OrderPlaced reserves nothing."""
    status = await storage.lock_reservation(conn, event.order_id)
    if status is None:
        if await storage.claim_order(conn, event.order_id, "released"):
            return
        # A concurrent OrderPlaced committed the row first: act on what it did.
        status = await storage.lock_reservation(conn, event.order_id)
    if status != "reserved":
        return
    await check_stock(conn, await storage.return_stock(conn, event.order_id))
    await storage.set_status(conn, event.order_id, "released")
    correlation = meta.correlation_id or str(event.order_id)
    await enqueue(conn, StockReleased(order_id=event.order_id), correlation_id=correlation)
    log.info("stock released", order_id=str(event.order_id))


async def on_order_delivered(conn: DbConn, event: OrderDelivered, meta: IncomingMeta) -> None:
    status = await storage.lock_reservation(conn, event.order_id)
    if status == "reserved":
        await storage.set_status(conn, event.order_id, "fulfilled")
    elif status != "fulfilled":
        log.warning("delivered order has no live reservation", status=status)


def event_handlers(app: web.Application) -> dict[type[Contract], MessageHandler]:
    """The handler of each event (they need nothing off the app but the consumer's conn)."""
    return {
        OrderPlaced: on_order_placed,
        OrderCancelled: on_order_undelivered,
        OrderFailed: on_order_undelivered,
        OrderDelivered: on_order_delivered,
    }
