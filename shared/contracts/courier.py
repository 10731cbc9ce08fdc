"""Messages for couriers besides the dispatch itself, on exchange ``shop.dispatch``
(routing key ``courier.<code>``, the courier's own queue ``courier.<code>.dispatch``).

Ids only: a courier already holds the delivery data of the dispatch it received; a cancel
names the dispatch and nothing about the person. Extra fields are forbidden.
"""

from __future__ import annotations

from uuid import UUID

from pydantic import ConfigDict, Field

from shared.contracts.base import Contract


class DispatchCancelled(Contract):
    """Orders tells the courier not to deliver a dispatch (the customer cancelled the order).

    Sent when the customer cancels an order whose dispatch was requested, and once more if
    the dispatch is released to the courier after that (the release raced the cancel). The
    courier must drop it, and remember a cancel of a dispatch it has not received yet."""

    model_config = ConfigDict(frozen=True, extra="forbid")
    MESSAGE_TYPE = "courier.dispatch_cancelled"
    dispatch_id: UUID
    order_ref: str
    courier: str = Field(pattern=r"^[a-z0-9_-]+$")
