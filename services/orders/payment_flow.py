"""Card payments, the use case: a bank's notification applied to its payment and its order.

Checked in this order, inside the caller's transaction: the payment of this bank
(``UnknownPayment``), the event id (a repeat of the same body: duplicate; the same id with
another body: ``EventIdReused``), the amount and currency (``AmountMismatch``), then the
payment's own state machine (``domain.payment_step``; a contradiction: ``DoesNotApply``).
The order is locked before the payment, as everywhere. A refusal raises, so the caller's
transaction rolls back and the event id stays unrecorded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal
from uuid import UUID

import asyncpg

from shared.db import DbConn

from . import storage
from .config import Settings
from .domain import (
    BankStatus,
    IllegalTransition,
    PaymentConflict,
    PaymentStatus,
    PaymentStep,
    payment_step,
)
from .workflow import apply_trigger, set_payment_status

Outcome = Literal["applied", "duplicate"]


@dataclass(frozen=True)
class BankNotice:
    """What a bank says about one payment (the signature is checked before)."""

    event_id: UUID
    payment_id: UUID
    status: BankStatus
    amount: int
    currency: str
    body_hash: str  # of the raw body: the same event id must come with the same body


class UnknownPayment(Exception):
    """No such payment, or a payment of another bank."""


class EventIdReused(Exception):
    """This event id came before with another body."""


class AmountMismatch(Exception):
    """Amount or currency differ from the payment's."""


class DoesNotApply(Exception):
    """The notification contradicts what the payment (or its order) already is."""


async def apply_bank_notice(
    conn: DbConn, settings: Settings, bank: str, notice: BankNotice
) -> Outcome:
    payment = await _locked_payment(conn, bank, notice.payment_id)
    known = await storage.record_payment_callback(
        conn, bank, notice.event_id, notice.payment_id, notice.status, notice.body_hash
    )
    if known is not None:
        if known != notice.body_hash:
            raise EventIdReused()
        return "duplicate"
    if (notice.amount, notice.currency) != (payment["amount"], payment["currency"]):
        raise AmountMismatch()
    try:
        step = payment_step(PaymentStatus(payment["status"]), notice.status)
    except PaymentConflict as exc:
        raise DoesNotApply(str(exc)) from None
    if step.status is None:
        return "duplicate"
    await _follow(conn, settings, payment, step)
    return "applied"


async def _locked_payment(conn: DbConn, bank: str, payment_id: UUID) -> asyncpg.Record:
    """The payment, locked after its order (the one lock order of the service)."""
    payment = await storage.get_payment(conn, payment_id)
    if payment is None or payment["bank"] != bank:
        raise UnknownPayment()
    order = await storage.lock_order(conn, payment["order_id"])
    locked = await storage.lock_order_payment(conn, payment["order_id"])
    assert order is not None and locked is not None
    return locked


async def _follow(
    conn: DbConn, settings: Settings, payment: asyncpg.Record, step: PaymentStep
) -> None:
    order = await storage.lock_order(conn, payment["order_id"])
    assert order is not None and step.status is not None
    await set_payment_status(conn, payment, order, step.status)
    if step.order_trigger is None:
        return
    try:
        await apply_trigger(conn, payment["order_id"], step.order_trigger, settings)
    except IllegalTransition as exc:
        # Cannot happen while payment and order move together under the order's lock.
        raise DoesNotApply(f"The order is {exc.status.value}.") from None
