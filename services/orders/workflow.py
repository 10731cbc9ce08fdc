"""Order transitions and checkout inside one transaction: state, history and event together.

Every status change goes through ``domain.decide``, is written with its history row, and is
announced through the outbox in the caller's transaction, so state and event never diverge.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from shared.contracts import (
    DispatchCancelled,
    DispatchRequested,
    Money,
    OrderAwaitingPayment,
    OrderCancelled,
    OrderDelivered,
    OrderDispatched,
    OrderFailed,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    OrderStatusChanged,
    Parcel,
    PaymentCancelled,
    PaymentDeclined,
    PaymentRefunded,
    PaymentRequested,
    PaymentStatusChanged,
    PaymentSucceeded,
    RefundPending,
    RefundRequested,
    bank_routing_key,
)
from shared.db import DbConn
from shared.messaging import DISPATCH_EXCHANGE, PAYMENTS_EXCHANGE, enqueue
from shared.messaging.topology import courier_routing_key

from . import storage
from .config import Settings
from .domain import (
    OrderState,
    PaymentMethod,
    PaymentStatus,
    PricedLine,
    Status,
    Step,
    Trigger,
    decide,
    new_order_ref,
    payment_after_order_step,
    payment_description,
    payment_page_url,
)

# The event announcing each status.
STATUS_EVENTS: dict[Status, type[OrderStatusChanged]] = {
    Status.AWAITING_PAYMENT: OrderAwaitingPayment,
    Status.PAID: OrderPaid,
    Status.DISPATCHED: OrderDispatched,
    Status.DELIVERED: OrderDelivered,
    Status.FAILED: OrderFailed,
    Status.CANCELLED: OrderCancelled,
}


class OrderNotFound(Exception):
    """No order with this id."""


@dataclass(frozen=True)
class Transition:
    order: asyncpg.Record  # the order as it was before the trigger
    step: Step


def state_of(row: asyncpg.Record) -> OrderState:
    return OrderState(
        status=Status(row["status"]),
        payment_method=row["payment_method"],
        dispatch_requested=row["dispatch_requested"],
        dispatch_released=row["dispatch_released"],
    )


async def apply_trigger(
    conn: DbConn, order_id: UUID, trigger: Trigger, settings: Settings
) -> Transition:
    """Lock the order and apply ``trigger`` with its effects (payment request, dispatch
    request or cancel, payment cancelled or refund); raise ``IllegalTransition`` or
    ``OrderNotFound``."""
    row = await storage.lock_order(conn, order_id)
    if row is None:
        raise OrderNotFound(str(order_id))
    step = decide(state_of(row), trigger)
    if step.changed:
        await storage.set_status(conn, order_id, step.status)
        await storage.add_history(conn, order_id, step.status, trigger.value)
        payment_url = None
        if step.status is Status.AWAITING_PAYMENT:
            payment_id = await request_payment(conn, row, settings)
            payment_url = payment_page_url(settings.bank_public_url, payment_id)
        await announce(conn, row, step.status, payment_url)
    if step.request_dispatch:
        await request_dispatch(conn, row)
    if step.cancel_dispatch:
        await cancel_dispatch(conn, row)
    if row["payment_method"] == "card":
        await follow_payment(conn, row, step)
    return Transition(order=row, step=step)


async def request_payment(conn: DbConn, row: asyncpg.Record, settings: Settings) -> UUID:
    """A payment row and the bank's request: reference, amount, return URL; nothing personal."""
    payment_id = uuid4()
    await storage.insert_payment(
        conn, payment_id, row["id"], settings.bank_code, row["total_amount"],
        settings.payment_timeout_s,
    )  # fmt: skip
    return_url = settings.payment_return_url.format(order_id=row["id"], order_ref=row["order_ref"])
    request = PaymentRequested(
        payment_id=payment_id,
        order_ref=row["order_ref"],
        amount=row["total_amount"],
        description=payment_description(row["order_ref"]),
        return_url=return_url,
    )
    await enqueue(
        conn,
        request,
        exchange=PAYMENTS_EXCHANGE,
        routing_key=bank_routing_key(settings.bank_code),
        correlation_id=str(row["id"]),
    )
    return payment_id


async def request_dispatch(conn: DbConn, row: asyncpg.Record) -> UUID:
    """Ask customers to release the delivery projection to the courier: ids only."""
    dispatch_id = uuid4()
    await storage.insert_dispatch(conn, dispatch_id, row["id"], row["courier"])
    units = await storage.order_units(conn, row["id"])
    cash = row["payment_method"] == "cash_on_delivery"
    await enqueue(
        conn,
        DispatchRequested(
            dispatch_id=dispatch_id,
            order_id=row["id"],
            order_ref=row["order_ref"],
            customer_id=row["customer_id"],
            courier=row["courier"],
            parcel=Parcel(count=units, weight_g=row["weight_g"] or 0),
            cash_on_delivery=Money(amount=row["total_amount"]) if cash else None,
            placed_at=row["created_at"],
        ),
        correlation_id=str(row["id"]),
    )
    return dispatch_id


async def cancel_dispatch(conn: DbConn, row: asyncpg.Record) -> UUID:
    """Mark the order's dispatch cancelled and tell the courier to drop it, on its own queue
    (``courier.<code>``, next to the dispatch messages): ids only."""
    dispatch = await storage.order_dispatch(conn, row["id"])
    if dispatch is None:  # decide asks for this only when a dispatch was requested
        raise RuntimeError(f"order {row['id']} has no dispatch to cancel")
    await storage.cancel_dispatch(conn, dispatch["id"])
    await enqueue(
        conn,
        DispatchCancelled(
            dispatch_id=dispatch["id"], order_ref=row["order_ref"], courier=dispatch["courier"]
        ),
        exchange=DISPATCH_EXCHANGE,
        routing_key=courier_routing_key(dispatch["courier"]),
        correlation_id=str(row["id"]),
    )
    return dispatch["id"]


async def follow_payment(conn: DbConn, row: asyncpg.Record, step: Step) -> None:
    """The card payment follows its order: cancelled while unpaid, refunded once paid."""
    payment = await storage.lock_order_payment(conn, row["id"])
    if payment is None:
        return
    target = payment_after_order_step(PaymentStatus(payment["status"]), step)
    if target is not None:
        await set_payment_status(conn, payment, row, target)


PAYMENT_EVENTS: dict[PaymentStatus, type[PaymentStatusChanged]] = {
    PaymentStatus.SUCCEEDED: PaymentSucceeded,
    PaymentStatus.DECLINED: PaymentDeclined,
    PaymentStatus.CANCELLED: PaymentCancelled,
    PaymentStatus.REFUND_REQUESTED: RefundPending,
    PaymentStatus.REFUNDED: PaymentRefunded,
}


async def set_payment_status(
    conn: DbConn, payment: asyncpg.Record, order: asyncpg.Record, status: PaymentStatus
) -> None:
    """Write the payment's status, announce it, and ask the bank for a refund when due."""
    await storage.set_payment_status(conn, payment["id"], status)
    order_ref = order["order_ref"]
    event = PAYMENT_EVENTS[status](
        payment_id=payment["id"],
        order_id=payment["order_id"],
        order_ref=order_ref,
        status=status.value,
        amount=Money(amount=payment["amount"]),
        customer_id=order["customer_id"],
        placed_at=order["created_at"],
    )
    await enqueue(conn, event, correlation_id=str(payment["order_id"]))
    if status is PaymentStatus.REFUND_REQUESTED:
        refund = RefundRequested(
            payment_id=payment["id"], order_ref=order_ref, amount=payment["amount"]
        )
        await enqueue(
            conn,
            refund,
            exchange=PAYMENTS_EXCHANGE,
            routing_key=bank_routing_key(payment["bank"]),
            correlation_id=str(payment["order_id"]),
        )


async def announce(
    conn: DbConn, row: asyncpg.Record, status: Status, payment_url: str | None = None
) -> None:
    """The status event; awaiting payment names the bank's page the customer pays on."""
    event = STATUS_EVENTS.get(status)
    if event is None:
        return
    extra = {"payment_url": payment_url} if event is OrderAwaitingPayment else {}
    await enqueue(
        conn,
        event(
            order_id=row["id"],
            order_ref=row["order_ref"],
            customer_id=row["customer_id"],
            status=status.value,
            total=Money(amount=row["total_amount"]),
            placed_at=row["created_at"],
            **extra,
        ),
    )


@dataclass(frozen=True)
class Checkout:
    customer_id: UUID
    courier: str
    payment_method: PaymentMethod
    lines: tuple[PricedLine, ...]


async def place_order(conn: DbConn, order_id: UUID, checkout: Checkout) -> storage.NewOrder:
    """Write the order, its lines and first history row, and enqueue ``OrderPlaced``."""
    order, placed_at = await _insert_with_fresh_ref(conn, order_id, checkout)
    await storage.insert_lines(conn, order.id, checkout.lines)
    await storage.add_history(conn, order.id, Status.PLACED, "checkout")
    await enqueue(
        conn,
        OrderPlaced(
            order_id=order.id,
            order_ref=order.order_ref,
            customer_id=order.customer_id,
            lines=tuple(
                OrderLine(product_id=line.product_id, quantity=line.quantity)
                for line in checkout.lines
            ),
            payment_method=order.payment_method,
            courier=order.courier,
            total=Money(amount=order.total),
            placed_at=placed_at,
        ),
    )
    return order


async def _insert_with_fresh_ref(
    conn: DbConn, order_id: UUID, checkout: Checkout
) -> tuple[storage.NewOrder, datetime]:
    total = sum(line.line_total for line in checkout.lines)
    for _ in range(5):
        order = storage.NewOrder(
            id=order_id,
            order_ref=new_order_ref(),
            customer_id=checkout.customer_id,
            payment_method=checkout.payment_method,
            courier=checkout.courier,
            total=total,
        )
        placed_at = await storage.insert_order(conn, order)
        if placed_at is not None:
            return order, placed_at
    raise RuntimeError("could not find a free order reference")
