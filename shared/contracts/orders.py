"""Events of the orders service: ids, amounts and statuses, never personal data."""

from __future__ import annotations

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


class OrderStatusChanged(Contract):
    """Base of the order transition events; each status has its own message type."""

    MESSAGE_TYPE = "orders.order.status_changed"
    order_id: UUID
    order_ref: str
    customer_id: UUID
    status: str
    total: Money


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
