"""Events of the catalog service: stock reservations and promotions."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from pydantic import BaseModel, Field

from shared.contracts.base import Contract, Money


class StockReserved(Contract):
    """Every line of the order is reserved."""

    MESSAGE_TYPE = "catalog.reservation.confirmed"
    order_id: UUID
    weight_g: int


class StockRejected(Contract):
    """Nothing was reserved: at least one line could not be covered."""

    MESSAGE_TYPE = "catalog.reservation.rejected"
    order_id: UUID
    reason: str
    product_ids: tuple[UUID, ...]


class StockReleased(Contract):
    """A reservation was given back to stock (order cancelled or expired)."""

    MESSAGE_TYPE = "catalog.reservation.released"
    order_id: UUID


class PromotionDiscount(BaseModel):
    """Exactly one of ``percent`` (1-99) and ``amount`` (tiyn off each unit)."""

    percent: int | None = Field(default=None, ge=1, le=99)
    amount: Money | None = None


class PromotionStarted(Contract):
    """A promotion went live: its products now sell at the promoted price until ``ends_at``."""

    MESSAGE_TYPE = "catalog.promotion.started"
    promotion_id: UUID
    name: str
    discount: PromotionDiscount
    product_ids: tuple[UUID, ...] = ()
    category: str | None = None
    starts_at: datetime
    ends_at: datetime


class PromotionEnded(Contract):
    """A promotion is over (its end passed, or it was ended early): regular prices again."""

    MESSAGE_TYPE = "catalog.promotion.ended"
    promotion_id: UUID
    at: datetime


class ProductCreated(Contract):
    """A catalog manager added a product (facts about the product only, no staff id)."""

    MESSAGE_TYPE = "catalog.product.created"
    product_id: UUID
    sku: str
    category: str
    price: Money
    version: int
    at: datetime


class ProductChanged(Contract):
    """A catalog manager edited a product: ``fields`` names what changed."""

    MESSAGE_TYPE = "catalog.product.changed"
    product_id: UUID
    fields: tuple[str, ...]
    version: int
    at: datetime


class ProductArchived(Contract):
    """A product is no longer sold nor listed; it stays readable by id."""

    MESSAGE_TYPE = "catalog.product.archived"
    product_id: UUID
    version: int
    at: datetime


class StockLow(Contract):
    """A product's free stock fell below its threshold (once, until refilled to it)."""

    MESSAGE_TYPE = "catalog.stock.low"
    product_id: UUID
    sku: str
    stock: int
    threshold: int
    at: datetime
