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
