"""Events of the catalog service about stock reservations."""

from __future__ import annotations

from uuid import UUID

from shared.contracts.base import Contract


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
