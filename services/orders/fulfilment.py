"""Fulfilment, the use case: a courier's report on a dispatch applied to its order.

Inside the caller's transaction: the dispatch of this courier (``UnknownDispatch``), the
event id recorded with its effect (a replay: duplicate), then the order's state machine. A
cancelled order is ``DispatchWasCancelled`` (the courier must not deliver it); any other
misfit ``DoesNotApply``, except a repeat of the status the order already has (duplicate). A
refusal raises, so the caller's transaction rolls back and the event id stays unrecorded:
the courier may retry.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from shared.db import DbConn

from . import storage
from .config import Settings
from .domain import IllegalTransition, Status, Trigger
from .workflow import apply_trigger

CourierStatus = Literal["delivered", "failed"]
Outcome = Literal["applied", "duplicate"]


class UnknownDispatch(Exception):
    """No such dispatch, or a dispatch of another courier."""


class DispatchWasCancelled(Exception):
    """The order was cancelled: the dispatch must not be delivered."""


class DoesNotApply(Exception):
    def __init__(self, status: Status) -> None:
        super().__init__(f"The order is {status.value}; not changed.")
        self.status = status


async def apply_courier_report(
    conn: DbConn,
    settings: Settings,
    courier: str,
    event_id: UUID,
    dispatch_id: UUID,
    status: CourierStatus,
) -> Outcome:
    dispatch = await storage.get_dispatch(conn, dispatch_id)
    if dispatch is None or dispatch["courier"] != courier:
        raise UnknownDispatch()
    if not await storage.record_courier_callback(conn, courier, event_id, dispatch_id, status):
        return "duplicate"
    trigger = Trigger.COURIER_DELIVERED if status == "delivered" else Trigger.COURIER_FAILED
    try:
        await apply_trigger(conn, dispatch["order_id"], trigger, settings)
    except IllegalTransition as exc:
        if exc.status.value == status:
            return "duplicate"
        if exc.status is Status.CANCELLED:
            raise DispatchWasCancelled() from None
        raise DoesNotApply(exc.status) from None
    await storage.set_dispatch_status(conn, dispatch_id, status)
    return "applied"
