"""Handlers of the events orders consumes (queue ``orders.events``).

Each runs inside the consumer's transaction, with the inbox row already written. An event
for an unknown order or dispatch is a broken contract: ``PermanentFailure`` parks it in the
dead queue. An event that no longer fits the order's state (e.g. stock reserved for an order
the customer has cancelled meanwhile) is ignored: the state machine refuses it and the
handler logs and acks, so redeliveries and late arrivals are harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from typing import Any
from uuid import UUID, uuid4

from shared.contracts import (
    Contract,
    DispatchRefused,
    DispatchReleased,
    DispatchRequested,
    Money,
    Parcel,
    StockRejected,
    StockReserved,
)
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import IncomingMeta, PermanentFailure, enqueue

from . import storage
from .domain import IllegalTransition, Trigger
from .workflow import OrderNotFound, Transition, apply_trigger

QUEUE = "orders.events"
log = get_logger("orders.messages")


async def _transition(conn: DbConn, order_id: UUID, trigger: Trigger) -> Transition | None:
    """Apply ``trigger``; None when it does not fit the order's state any more."""
    try:
        return await apply_trigger(conn, order_id, trigger)
    except OrderNotFound:
        raise PermanentFailure(f"unknown order for {trigger.value}") from None
    except IllegalTransition as exc:
        log.warning(
            "event ignored by the state machine",
            order_id=str(order_id),
            trigger=trigger.value,
            status=exc.status.value,
        )
        return None


async def on_stock_reserved(conn: DbConn, event: StockReserved, meta: IncomingMeta) -> None:
    done = await _transition(conn, event.order_id, Trigger.STOCK_RESERVED)
    if done is None or not done.step.request_dispatch:
        return
    order = done.order
    dispatch_id = uuid4()
    await storage.insert_dispatch(conn, dispatch_id, order["id"], order["courier"])
    units = await storage.order_units(conn, order["id"])
    await enqueue(
        conn,
        DispatchRequested(
            dispatch_id=dispatch_id,
            order_id=order["id"],
            order_ref=order["order_ref"],
            customer_id=order["customer_id"],
            courier=order["courier"],
            parcel=Parcel(count=units, weight_g=event.weight_g),
            cash_on_delivery=Money(amount=order["total_amount"]),
        ),
        correlation_id=str(order["id"]),
    )


async def on_stock_rejected(conn: DbConn, event: StockRejected, meta: IncomingMeta) -> None:
    await _transition(conn, event.order_id, Trigger.STOCK_REJECTED)


async def _known_dispatch(conn: DbConn, dispatch_id: UUID, order_id: UUID) -> None:
    dispatch = await storage.get_dispatch(conn, dispatch_id)
    if dispatch is None or dispatch["order_id"] != order_id:
        raise PermanentFailure("unknown dispatch or dispatch of another order")


async def on_dispatch_released(conn: DbConn, event: DispatchReleased, meta: IncomingMeta) -> None:
    await _known_dispatch(conn, event.dispatch_id, event.order_id)
    done = await _transition(conn, event.order_id, Trigger.DISPATCH_RELEASED)
    if done is not None:
        await storage.set_dispatch_status(conn, event.dispatch_id, "released", event.release_id)


async def on_dispatch_refused(conn: DbConn, event: DispatchRefused, meta: IncomingMeta) -> None:
    await _known_dispatch(conn, event.dispatch_id, event.order_id)
    done = await _transition(conn, event.order_id, Trigger.DISPATCH_REFUSED)
    if done is not None:
        await storage.set_dispatch_status(conn, event.dispatch_id, "refused")


MessageHandler = Callable[[DbConn, Any, IncomingMeta], Awaitable[None]]


def handlers() -> Mapping[type[Contract], MessageHandler]:
    return {
        StockReserved: on_stock_reserved,
        StockRejected: on_stock_rejected,
        DispatchReleased: on_dispatch_released,
        DispatchRefused: on_dispatch_refused,
    }
