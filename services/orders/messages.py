"""Handlers of the events orders consumes (queue ``orders.events``).

Each runs inside the consumer's transaction, with the inbox row already written. An event
for an unknown order or dispatch is a broken contract: ``PermanentFailure`` parks it in the
dead queue. An event that no longer fits the order's state (e.g. stock reserved for an order
the customer has cancelled meanwhile) is ignored: the state machine refuses it and the
handler logs and acks, so redeliveries and late arrivals are harmless.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

from aiohttp import web

from shared import blocking
from shared.contracts import (
    Contract,
    CustomerErased,
    DispatchRefused,
    DispatchReleased,
    StockRejected,
    StockReserved,
)
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import IncomingMeta, PermanentFailure

from . import erasure, storage
from .config import Settings
from .domain import IllegalTransition, Trigger
from .keys import SETTINGS
from .workflow import OrderNotFound, Transition, apply_trigger

QUEUE = "orders.events"
log = get_logger("orders.messages")


async def _transition(
    conn: DbConn, order_id: UUID, trigger: Trigger, settings: Settings
) -> Transition | None:
    """Apply ``trigger``; None when it does not fit the order's state any more."""
    try:
        return await apply_trigger(conn, order_id, trigger, settings)
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


async def on_stock_reserved(
    settings: Settings, conn: DbConn, event: StockReserved, meta: IncomingMeta
) -> None:
    """Cash on delivery: the dispatch is requested; card: the payment is requested."""
    await storage.set_weight(conn, event.order_id, event.weight_g)
    await _transition(conn, event.order_id, Trigger.STOCK_RESERVED, settings)


async def on_stock_rejected(
    settings: Settings, conn: DbConn, event: StockRejected, meta: IncomingMeta
) -> None:
    await _transition(conn, event.order_id, Trigger.STOCK_REJECTED, settings)


async def _known_dispatch(conn: DbConn, dispatch_id: UUID, order_id: UUID) -> None:
    dispatch = await storage.get_dispatch(conn, dispatch_id)
    if dispatch is None or dispatch["order_id"] != order_id:
        raise PermanentFailure("unknown dispatch or dispatch of another order")


async def on_dispatch_released(
    settings: Settings, conn: DbConn, event: DispatchReleased, meta: IncomingMeta
) -> None:
    """The courier has the dispatch: the order is ``dispatched``. If the customer cancelled
    meanwhile (the release raced the cancel), the order stays cancelled and the courier is
    told once more to drop the dispatch; the release is recorded, so this happens once."""
    await _known_dispatch(conn, event.dispatch_id, event.order_id)
    done = await _transition(conn, event.order_id, Trigger.DISPATCH_RELEASED, settings)
    if done is not None:
        status = "cancelled" if done.step.cancel_dispatch else "released"
        await storage.set_dispatch_status(conn, event.dispatch_id, status, event.release_id)


async def on_dispatch_refused(
    settings: Settings, conn: DbConn, event: DispatchRefused, meta: IncomingMeta
) -> None:
    await _known_dispatch(conn, event.dispatch_id, event.order_id)
    done = await _transition(conn, event.order_id, Trigger.DISPATCH_REFUSED, settings)
    if done is not None:
        await storage.set_dispatch_status(conn, event.dispatch_id, "refused")


async def on_customer_erased(
    settings: Settings, conn: DbConn, event: CustomerErased, meta: IncomingMeta
) -> None:
    """Depersonalise the customer's rows and confirm (a redelivery unlinks nothing more)."""
    done = await erasure.depersonalise(conn, event)
    log.info(
        "customer depersonalised",
        request_id=str(event.request_id),
        orders_unlinked=done.orders_unlinked,
        carts_deleted=done.carts_deleted,
    )


MessageHandler = Callable[[DbConn, Any, IncomingMeta], Awaitable[None]]


def event_handlers(app: web.Application) -> dict[type[Contract], MessageHandler]:
    """The handler of each event, reading the settings off the app when a message comes."""

    def bound(handler: Callable[..., Awaitable[None]]) -> MessageHandler:
        async def handle(conn: DbConn, event: Any, meta: IncomingMeta) -> None:
            await handler(app[SETTINGS], conn, event, meta)

        return handle

    return {
        **blocking.block_handlers(),
        StockReserved: bound(on_stock_reserved),
        StockRejected: bound(on_stock_rejected),
        DispatchReleased: bound(on_dispatch_released),
        DispatchRefused: bound(on_dispatch_refused),
        CustomerErased: bound(on_customer_erased),
    }
