"""The dispatch message a courier receives: the contract's fields and nothing more.

No email, no patronymic, no item names, no customer id (DESIGN.md §4.3, §5).
"""

from __future__ import annotations

from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field

from shared.contracts.base import Money, PersonalContract
from shared.contracts.orders import Parcel


class DispatchRecipient(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    name: str
    phone: str


class DispatchAddress(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")
    city: str
    street: str
    house: str
    apartment: str | None
    postal_code: str | None
    comment: str | None


class DispatchMessage(PersonalContract):
    MESSAGE_TYPE = "courier.dispatch"
    dispatch_id: UUID
    order_ref: str
    courier: str = Field(pattern=r"^[a-z0-9_-]+$")
    parcel: Parcel
    cash_on_delivery: Money | None
    recipient: DispatchRecipient
    address: DispatchAddress
    release_id: UUID
