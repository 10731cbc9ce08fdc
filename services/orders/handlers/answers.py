"""What some handlers answer, as models for the OpenAPI document (``routes.py``); the
schemathesis run (tests/orders/test_openapi.py) checks live answers against them."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from shared.answers import Amount


class CartLine(BaseModel):
    model_config = ConfigDict(extra="forbid")
    product_id: UUID
    name: str
    quantity: int
    price: Amount
    line_total: Amount
    regular_price: Amount | None = None  # only under a live promotion


class CartAnswer(BaseModel):
    """The priced cart; ``unavailable`` lists products the catalog no longer has."""

    model_config = ConfigDict(extra="forbid")
    items: list[CartLine]
    unavailable: list[UUID]
    total: Amount


class CancelAnswer(BaseModel):
    model_config = ConfigDict(extra="forbid")
    id: UUID
    status: Literal["cancelled"]
    order_ref: str
