"""Order transitions and checkout inside one transaction: state, history and event together.

Every status change goes through ``domain.decide``, is written with its history row, and is
announced through the outbox in the caller's transaction, so state and event never diverge.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from shared.contracts import (
    Money,
    OrderCancelled,
    OrderDelivered,
    OrderDispatched,
    OrderFailed,
    OrderLine,
    OrderPlaced,
    OrderStatusChanged,
)
from shared.db import DbConn
from shared.messaging import enqueue

from . import storage
from .domain import (
    OrderState,
    PaymentMethod,
    PricedLine,
    Status,
    Step,
    Trigger,
    decide,
    money,
    new_order_ref,
)

# The event announcing each status (awaiting_payment and paid have none yet).
STATUS_EVENTS: dict[Status, type[OrderStatusChanged]] = {
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
    )


async def apply_trigger(conn: DbConn, order_id: UUID, trigger: Trigger) -> Transition:
    """Lock the order and apply ``trigger``; raise ``IllegalTransition`` or ``OrderNotFound``."""
    row = await storage.lock_order(conn, order_id)
    if row is None:
        raise OrderNotFound(str(order_id))
    step = decide(state_of(row), trigger)
    if step.changed:
        await storage.set_status(conn, order_id, step.status)
        await storage.add_history(conn, order_id, step.status, trigger.value)
        await announce(conn, row, step.status)
    return Transition(order=row, step=step)


async def announce(conn: DbConn, row: asyncpg.Record, status: Status) -> None:
    event = STATUS_EVENTS.get(status)
    if event is None:
        return
    await enqueue(
        conn,
        event(
            order_id=row["id"],
            order_ref=row["order_ref"],
            customer_id=row["customer_id"],
            status=status.value,
            total=Money(amount=row["total_amount"]),
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
    order = await _insert_with_fresh_ref(conn, order_id, checkout)
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
        ),
    )
    return order


async def _insert_with_fresh_ref(
    conn: DbConn, order_id: UUID, checkout: Checkout
) -> storage.NewOrder:
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
        if await storage.insert_order(conn, order):
            return order
    raise RuntimeError("could not find a free order reference")


# --- documents --------------------------------------------------------------------------


def order_summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "order_ref": row["order_ref"],
        "status": row["status"],
        "total": money(row["total_amount"]),
        "created_at": row["created_at"].isoformat(),
    }


def order_document(
    row: asyncpg.Record, lines: Sequence[asyncpg.Record], history: Sequence[asyncpg.Record]
) -> dict[str, Any]:
    return {
        **order_summary(row),
        "items": [
            {
                "product_id": str(line["product_id"]),
                "sku": line["sku"],
                "name": line["name"],
                "quantity": line["quantity"],
                "unit_price": money(line["unit_price"]),
                "line_total": money(line["unit_price"] * line["quantity"]),
            }
            for line in lines
        ],
        "payment": {"method": row["payment_method"]},
        "delivery": {"courier": row["courier"]},
        "history": [
            {"status": h["status"], "at": h["at"].isoformat(), "cause": h["cause"]} for h in history
        ],
    }


async def order_documents(conn: DbConn, rows: Sequence[asyncpg.Record]) -> list[dict[str, Any]]:
    ids = [row["id"] for row in rows]
    lines = await storage.order_lines(conn, ids)
    history = await storage.order_history(conn, ids)
    return [
        order_document(row, lines.get(row["id"], []), history.get(row["id"], [])) for row in rows
    ]
