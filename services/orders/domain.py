"""The order state machine, pricing and small value rules: pure, no I/O."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Literal
from uuid import UUID

from shared import paging
from shared.paging import BadCursor

PaymentMethod = Literal["card", "cash_on_delivery"]
MAX_QUANTITY = 99
MAX_CART_LINES = 50


class Status(StrEnum):
    PLACED = "placed"
    AWAITING_PAYMENT = "awaiting_payment"
    PAID = "paid"
    DISPATCHED = "dispatched"
    DELIVERED = "delivered"
    CANCELLED = "cancelled"
    FAILED = "failed"


class Trigger(StrEnum):
    """What happened to an order; the name is also the ``cause`` in its history."""

    STOCK_RESERVED = "stock_reserved"
    STOCK_REJECTED = "stock_rejected"
    PAYMENT_CONFIRMED = "payment_confirmed"
    PAYMENT_DECLINED = "payment_declined"
    PAYMENT_EXPIRED = "payment_expired"
    DISPATCH_RELEASED = "dispatch_released"
    DISPATCH_REFUSED = "dispatch_refused"
    COURIER_DELIVERED = "courier_delivered"
    COURIER_FAILED = "courier_failed"
    CUSTOMER_CANCELLED = "customer_cancelled"


class IllegalTransition(Exception):
    """The trigger does not apply to the order in its current state."""

    def __init__(self, status: Status, trigger: Trigger) -> None:
        super().__init__(f"{trigger.value} does not apply to an order in status {status.value}")
        self.status = status
        self.trigger = trigger


@dataclass(frozen=True)
class OrderState:
    """What the state machine needs to know of an order: its status, how it is paid, whether
    a dispatch was asked for, and whether orders has seen that dispatch released to the
    courier (``DispatchReleased``)."""

    status: Status
    payment_method: PaymentMethod
    dispatch_requested: bool
    dispatch_released: bool = False


@dataclass(frozen=True)
class Step:
    """The outcome of a trigger: the status after it, whether to ask for a dispatch, whether
    money taken by card goes back (a paid order that will not be delivered), and whether the
    courier must be told to drop the dispatch (``DispatchCancelled``)."""

    status: Status
    changed: bool
    request_dispatch: bool = False
    request_refund: bool = False
    cancel_dispatch: bool = False


# Where an order may go on each trigger (the stock-reserved step depends on the payment).
_TRANSITIONS: Mapping[tuple[Status, Trigger], Status] = {
    (Status.PLACED, Trigger.STOCK_REJECTED): Status.CANCELLED,
    (Status.AWAITING_PAYMENT, Trigger.PAYMENT_CONFIRMED): Status.PAID,
    (Status.AWAITING_PAYMENT, Trigger.PAYMENT_DECLINED): Status.CANCELLED,
    (Status.AWAITING_PAYMENT, Trigger.PAYMENT_EXPIRED): Status.CANCELLED,
    (Status.PLACED, Trigger.DISPATCH_RELEASED): Status.DISPATCHED,
    (Status.PAID, Trigger.DISPATCH_RELEASED): Status.DISPATCHED,
    (Status.PLACED, Trigger.DISPATCH_REFUSED): Status.FAILED,
    (Status.PAID, Trigger.DISPATCH_REFUSED): Status.FAILED,
    (Status.DISPATCHED, Trigger.COURIER_DELIVERED): Status.DELIVERED,
    (Status.DISPATCHED, Trigger.COURIER_FAILED): Status.FAILED,
    (Status.PLACED, Trigger.CUSTOMER_CANCELLED): Status.CANCELLED,
    (Status.AWAITING_PAYMENT, Trigger.CUSTOMER_CANCELLED): Status.CANCELLED,
    (Status.PAID, Trigger.CUSTOMER_CANCELLED): Status.CANCELLED,
}
FINAL_STATUSES = frozenset({Status.DELIVERED, Status.CANCELLED, Status.FAILED})


def decide(order: OrderState, trigger: Trigger) -> Step:
    """Apply ``trigger`` to ``order``; raise ``IllegalTransition`` when it does not fit."""
    if trigger is Trigger.STOCK_RESERVED:
        return _on_stock_reserved(order)
    if trigger is Trigger.DISPATCH_RELEASED and order.status is Status.CANCELLED:
        return _on_release_after_cancel(order)
    target = _TRANSITIONS.get((order.status, trigger))
    if target is None:
        raise IllegalTransition(order.status, trigger)
    return Step(
        status=target,
        changed=True,
        request_dispatch=trigger is Trigger.PAYMENT_CONFIRMED,
        request_refund=_paid_by_card(order) and target in (Status.CANCELLED, Status.FAILED),
        # The delivery data may already be with the courier (or be on its way): tell the
        # courier to drop the dispatch, so a cancelled order is never delivered.
        cancel_dispatch=trigger is Trigger.CUSTOMER_CANCELLED and order.dispatch_requested,
    )


def _on_release_after_cancel(order: OrderState) -> Step:
    """The release raced the customer's cancel: the courier got the dispatch after orders
    had cancelled it, and may have missed the cancel. Tell it again, once per dispatch (the
    release is recorded with the dispatch); the order stays cancelled."""
    if not order.dispatch_requested or order.dispatch_released:
        raise IllegalTransition(order.status, Trigger.DISPATCH_RELEASED)
    return Step(status=Status.CANCELLED, changed=False, cancel_dispatch=True)


def _paid_by_card(order: OrderState) -> bool:
    """A card order past ``awaiting_payment`` has been paid (that is the only way there)."""
    return order.payment_method == "card" and order.status in (Status.PAID, Status.DISPATCHED)


def _on_stock_reserved(order: OrderState) -> Step:
    if order.status is not Status.PLACED or order.dispatch_requested:
        raise IllegalTransition(order.status, Trigger.STOCK_RESERVED)
    if order.payment_method == "cash_on_delivery":
        return Step(status=Status.PLACED, changed=False, request_dispatch=True)
    return Step(status=Status.AWAITING_PAYMENT, changed=True)


# --- card payments ----------------------------------------------------------------------


class PaymentStatus(StrEnum):
    REQUESTED = "requested"
    SUCCEEDED = "succeeded"
    DECLINED = "declined"
    CANCELLED = "cancelled"  # the order ended (expired, cancelled) before it was paid
    REFUND_REQUESTED = "refund_requested"
    REFUNDED = "refunded"


BankStatus = Literal["succeeded", "declined", "refunded"]


@dataclass(frozen=True)
class PaymentStep:
    """What a bank notification does: the payment's new status (None: nothing changes),
    the order trigger to apply, and whether the money must go back at once."""

    status: PaymentStatus | None
    order_trigger: Trigger | None = None
    request_refund: bool = False


class PaymentConflict(Exception):
    """The bank's notification contradicts what the payment already is."""


_PAYMENT_STEPS: Mapping[tuple[PaymentStatus, str], PaymentStep] = {
    (PaymentStatus.REQUESTED, "succeeded"): PaymentStep(
        PaymentStatus.SUCCEEDED, Trigger.PAYMENT_CONFIRMED
    ),
    (PaymentStatus.REQUESTED, "declined"): PaymentStep(
        PaymentStatus.DECLINED, Trigger.PAYMENT_DECLINED
    ),
    # Paid after the order expired or was cancelled: the money goes straight back.
    (PaymentStatus.CANCELLED, "succeeded"): PaymentStep(
        PaymentStatus.REFUND_REQUESTED, request_refund=True
    ),
    (PaymentStatus.REFUND_REQUESTED, "refunded"): PaymentStep(PaymentStatus.REFUNDED),
}
# Notifications that repeat what is already known: no effect, no error (the bank may retry).
_ALREADY_KNOWN: frozenset[tuple[PaymentStatus, str]] = frozenset(
    {
        (PaymentStatus.SUCCEEDED, "succeeded"),
        (PaymentStatus.DECLINED, "declined"),
        (PaymentStatus.CANCELLED, "declined"),
        (PaymentStatus.REFUND_REQUESTED, "succeeded"),
        (PaymentStatus.REFUNDED, "succeeded"),
        (PaymentStatus.REFUNDED, "refunded"),
    }
)


def payment_step(current: PaymentStatus, reported: str) -> PaymentStep:
    """Apply a bank notification to a payment; raise ``PaymentConflict`` when it contradicts."""
    step = _PAYMENT_STEPS.get((current, reported))
    if step is not None:
        return step
    if (current, reported) in _ALREADY_KNOWN:
        return PaymentStep(None)
    raise PaymentConflict(f"{reported} does not apply to a payment that is {current.value}")


def payment_after_order_step(current: PaymentStatus, step: Step) -> PaymentStatus | None:
    """The payment's status once its order moved: cancelled unpaid, or refund requested."""
    if step.request_refund and current is PaymentStatus.SUCCEEDED:
        return PaymentStatus.REFUND_REQUESTED
    if step.status is Status.CANCELLED and current is PaymentStatus.REQUESTED:
        return PaymentStatus.CANCELLED
    return None


def payment_description(order_ref: str) -> str:
    """What the bank shows and prints on the statement: the reference, never item names."""
    return f"Заказ {order_ref}"


def payment_page_url(bank_public_url: str, payment_id: UUID) -> str:
    """The bank's hosted page where the customer pays this payment."""
    return f"{bank_public_url.rstrip('/')}/pay/{payment_id}"


@dataclass(frozen=True)
class Velocity:
    """Checkouts counted in the current window, against their limits (0 = no limit)."""

    account: int
    network: int
    account_limit: int
    network_limit: int

    @property
    def exceeded(self) -> bool:
        return self.breach() is not None

    def breach(self) -> tuple[Literal["account", "network"], int, int] | None:
        """The limit this checkout went over, as (rule, attempts, limit); the account's first.
        What an automated decision records (Law 94-V art. 19-1)."""
        if self.account_limit > 0 and self.account > self.account_limit:
            return "account", self.account, self.account_limit
        if self.network_limit > 0 and self.network > self.network_limit:
            return "network", self.network, self.network_limit
        return None


# --- order references -------------------------------------------------------------------

# Crockford-like alphabet without look-alikes (0/O, 1/I/L, U): easy to read out on the phone.
REF_ALPHABET = "23456789ABCDEFGHJKMNPQRSTVWXYZ"


def new_order_ref() -> str:
    """A short random human reference such as ``A7K2-9QX4`` (30**8, about 6.6e11 values)."""
    chars = "".join(secrets.choice(REF_ALPHABET) for _ in range(8))
    return f"{chars[:4]}-{chars[4:]}"


# --- pricing ----------------------------------------------------------------------------


@dataclass(frozen=True)
class CatalogProduct:
    """The catalog's data: ``price`` is what a unit sells at now (promoted while one of the
    catalog's promotions is live); ``regular_price`` the price without it."""

    id: UUID
    sku: str
    name: str
    price: int
    weight_g: int
    regular_price: int | None = None
    promotion_id: UUID | None = None

    @property
    def promoted(self) -> bool:
        return self.regular_price is not None and self.regular_price > self.price


@dataclass(frozen=True)
class PricedLine:
    product_id: UUID
    sku: str
    name: str
    unit_price: int
    quantity: int
    # Set when the unit price is a promotion's: the price without it, and the promotion.
    regular_price: int | None = None
    promotion_id: UUID | None = None

    @property
    def line_total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class PricedCart:
    lines: tuple[PricedLine, ...]
    unavailable: tuple[UUID, ...]

    @property
    def total(self) -> int:
        return sum(line.line_total for line in self.lines)

    @property
    def units(self) -> int:
        return sum(line.quantity for line in self.lines)


def price_cart(
    items: Iterable[tuple[UUID, int]], products: Mapping[UUID, CatalogProduct]
) -> PricedCart:
    """Price cart items with catalog data; items the catalog no longer knows are set aside."""
    lines: list[PricedLine] = []
    unavailable: list[UUID] = []
    for product_id, quantity in items:
        product = products.get(product_id)
        if product is None:
            unavailable.append(product_id)
            continue
        promoted = product.promoted
        lines.append(
            PricedLine(
                product_id,
                product.sku,
                product.name,
                product.price,
                quantity,
                regular_price=product.regular_price if promoted else None,
                promotion_id=product.promotion_id if promoted else None,
            )
        )
    return PricedCart(tuple(lines), tuple(unavailable))


def money(amount: int) -> dict[str, int | str]:
    return {"amount": amount, "currency": "KZT"}


# --- checkout idempotency ---------------------------------------------------------------


def request_hash(canonical_body: str) -> str:
    return hashlib.sha256(canonical_body.encode()).hexdigest()


def valid_idempotency_key(key: str) -> bool:
    return 1 <= len(key) <= 200 and key.isascii() and key.isprintable()


# --- paging -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Cursor:
    created_at: datetime
    order_id: UUID


def encode_cursor(cursor: Cursor) -> str:
    return paging.encode_cursor(cursor.created_at.isoformat(), str(cursor.order_id))


def decode_cursor(text: str) -> Cursor:
    """The cursor back; ``BadCursor`` (a 422 problem) when it is not one of ours."""
    created_at, order_id = paging.decode_cursor(text, 2)
    try:
        cursor = Cursor(datetime.fromisoformat(created_at), UUID(order_id))
    except ValueError:
        raise BadCursor() from None
    if cursor.created_at.tzinfo is None:
        raise BadCursor()
    return cursor
