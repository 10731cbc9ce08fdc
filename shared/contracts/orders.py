"""Events of the orders service: ids, amounts and statuses, never personal data."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Contract, Money

PaymentMethod = Literal["card", "cash_on_delivery"]


class OrderLine(BaseModel):
    model_config = ConfigDict(frozen=True)
    product_id: UUID
    quantity: int = Field(gt=0)


class Parcel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    count: int = Field(gt=0)
    weight_g: int = Field(ge=0)


class OrderPlaced(Contract):
    MESSAGE_TYPE = "orders.order.placed"
    order_id: UUID
    order_ref: str
    customer_id: UUID
    lines: tuple[OrderLine, ...]
    payment_method: PaymentMethod
    courier: str
    total: Money
    # The order's creation time (see ``OrderStatusChanged.placed_at``); None from older senders.
    placed_at: datetime | None = None


class OrderStatusChanged(Contract):
    """Base of the order transition events; each status has its own message type."""

    MESSAGE_TYPE = "orders.order.status_changed"
    order_id: UUID
    order_ref: str
    customer_id: UUID
    status: str
    total: Money
    # When the order was placed: an order placed before its customer blocked processing is
    # an open obligation (Law 94-V art. 8(2)) whose delivery and status mail still go.
    placed_at: datetime | None = None


class OrderAwaitingPayment(OrderStatusChanged):
    """Stock is reserved for a card order; a payment is requested of the bank."""

    MESSAGE_TYPE = "orders.order.awaiting_payment"
    # The bank's hosted payment page of this order's payment, where the customer pays (the
    # order's ``payment_url``): a page address, no credential.
    payment_url: str | None = Field(default=None, max_length=2000)


class OrderPaid(OrderStatusChanged):
    MESSAGE_TYPE = "orders.order.paid"


class OrderDispatched(OrderStatusChanged):
    MESSAGE_TYPE = "orders.order.dispatched"


class OrderDelivered(OrderStatusChanged):
    MESSAGE_TYPE = "orders.order.delivered"


class OrderFailed(OrderStatusChanged):
    MESSAGE_TYPE = "orders.order.failed"


class OrderCancelled(OrderStatusChanged):
    MESSAGE_TYPE = "orders.order.cancelled"


class DispatchRequested(Contract):
    """Orders asks customers to release the delivery projection to a courier: ids only."""

    MESSAGE_TYPE = "orders.dispatch.requested"
    dispatch_id: UUID
    order_id: UUID
    order_ref: str
    customer_id: UUID
    courier: str
    parcel: Parcel
    cash_on_delivery: Money | None
    # When the order was placed (see ``OrderStatusChanged.placed_at``).
    placed_at: datetime | None = None


class OrderNeedsAttention(Contract):
    """A dispatched order got no courier confirmation in time: support should look at it."""

    MESSAGE_TYPE = "orders.order.needs_attention"
    order_id: UUID
    order_ref: str
    status: str
    reason: Literal["courier_timeout"]


class PaymentStatusChanged(Contract):
    """Base of the card payment events (the bank's answers, as orders applied them)."""

    MESSAGE_TYPE = "orders.payment.status_changed"
    payment_id: UUID
    order_id: UUID
    order_ref: str
    status: str
    amount: Money
    # Whose order it is and when it was placed, for the customer's mail (a refund); None
    # from older senders and once the customer is erased.
    customer_id: UUID | None = None
    placed_at: datetime | None = None


class PaymentSucceeded(PaymentStatusChanged):
    MESSAGE_TYPE = "orders.payment.succeeded"


class PaymentDeclined(PaymentStatusChanged):
    MESSAGE_TYPE = "orders.payment.declined"


class PaymentCancelled(PaymentStatusChanged):
    """The order ended (expired or cancelled) before the payment was made."""

    MESSAGE_TYPE = "orders.payment.cancelled"


class RefundPending(PaymentStatusChanged):
    """A refund is asked of the bank (a paid order cancelled or failed, or a late payment)."""

    MESSAGE_TYPE = "orders.payment.refund_requested"


class PaymentRefunded(PaymentStatusChanged):
    MESSAGE_TYPE = "orders.payment.refunded"


class OrdersDepersonalised(Contract):
    """Orders removed an erased customer's id (``CustomerErased``): orders unlinked (totals
    and lines kept for accounting), carts and checkout keys deleted. Quotes the erasure
    request only, never the customer id, so this body links nobody. Counts, no values."""

    MESSAGE_TYPE = "orders.customer.depersonalised"
    request_id: UUID
    orders_unlinked: int = Field(ge=0)
    carts_deleted: int = Field(ge=0)
