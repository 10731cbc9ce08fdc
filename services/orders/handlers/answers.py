"""What some handlers answer, as models for the OpenAPI document (``routes.py``); the
schemathesis run (tests/orders/test_openapi.py) checks live answers against them."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from services.orders.domain import PaymentMethod
from shared.answers import Absent, Amount, Answer, page_of


class CartLine(Answer):
    product_id: UUID
    name: str
    quantity: int
    price: Amount
    line_total: Amount
    regular_price: Amount | None = None  # only under a live promotion


class CartAnswer(Answer):
    """The priced cart; ``unavailable`` lists products the catalog no longer has."""

    items: list[CartLine]
    unavailable: list[UUID]
    total: Amount


class CancelAnswer(Answer):
    id: UUID
    status: Literal["cancelled"]
    order_ref: str


OrderStatus = Literal[
    "placed", "awaiting_payment", "paid", "dispatched", "delivered", "cancelled", "failed"
]
PaymentState = Literal[
    "requested", "succeeded", "declined", "cancelled", "refund_requested", "refunded"
]
DispatchState = Literal["requested", "released", "refused", "delivered", "failed", "cancelled"]
Outcome = Literal["applied", "duplicate"]


class PlacedAnswer(Answer):
    """The order checkout placed (201), or the one the same Idempotency-Key placed before."""

    id: UUID
    status: OrderStatus
    order_ref: str


class OrderSummary(Answer):
    id: UUID
    order_ref: str
    status: OrderStatus
    total: Amount
    created_at: datetime


OrderPage = page_of(OrderSummary, "OrderPage")


class OrderLine(Answer):
    """A line as bought; ``regular_price`` and ``promotion_id`` only when a promotion priced it."""

    product_id: UUID
    sku: str
    name: str
    quantity: int
    unit_price: Amount
    line_total: Amount
    regular_price: Amount | Absent = None
    promotion_id: UUID | None = None


class Payment(Answer):
    """The payment method, and the payment once one was asked of the bank."""

    method: PaymentMethod
    id: UUID | Absent = None
    status: PaymentState | Absent = None
    amount: Amount | Absent = None
    expires_at: datetime | Absent = None


class Delivery(Answer):
    courier: str


class HistoryEntry(Answer):
    status: OrderStatus
    at: datetime
    cause: str | None


class OrderDocument(OrderSummary):
    items: list[OrderLine]
    payment: Payment
    payment_url: str | None  # the bank's page while the order waits for its payment
    delivery: Delivery
    needs_attention: bool
    history: list[HistoryEntry]


class Dispatch(Answer):
    courier: str
    status: DispatchState
    release_id: UUID | None
    requested_at: datetime
    updated_at: datetime
    cancelled_at: datetime | None


class ExportedOrder(OrderDocument):
    dispatch: Dispatch | None  # null: no dispatch asked yet


class ExportedCartLine(Answer):
    product_id: UUID
    quantity: int
    added_at: datetime
    name: str | Absent = None  # when the catalog answered


class Decision(Answer):
    """An automated decision (a velocity refusal)."""

    id: UUID
    kind: Literal["checkout_velocity"]
    rule: str
    attempts: int
    limit_per_min: int
    retry_after_s: int
    decided_at: datetime


class DecisionAnswer(Decision):
    customer_id: UUID | None  # null once the customer is erased


class OrdersExport(Answer):
    orders: list[ExportedOrder]
    cart: list[ExportedCartLine]
    decisions: list[Decision]


class AttentionItem(Answer):
    id: UUID
    order_ref: str
    status: OrderStatus
    courier: str
    dispatch_id: UUID | None
    dispatched_at: datetime
    needs_attention_since: datetime
    reason: Literal["courier_timeout"]


class AttentionList(Answer):
    items: list[AttentionItem]


class NetworkDay(Answer):
    day: date
    network: str
    city: str | None
    region: str | None
    checkouts: int


class NetworkStats(Answer):
    items: list[NetworkDay]


class CallbackAnswer(Answer):
    result: Outcome


class Obligation(Answer):
    kind: Literal["order", "refund"]
    order_ref: str
    status: str


class Obligations(Answer):
    open: list[Obligation]


class OrderCustomer(Answer):
    order_id: UUID
    order_ref: str
    customer_id: UUID | None  # null once the customer is erased
    status: OrderStatus
    placed_at: datetime
    updated_at: datetime
