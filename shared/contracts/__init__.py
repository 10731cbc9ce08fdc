"""Message contracts: every message body on the broker is one of these pydantic models.

``CONTRACTS`` maps each message type (the AMQP ``type`` property) to its model.
"""

from shared.contracts.base import Contract, Money, PersonalContract
from shared.contracts.catalog import StockRejected, StockReleased, StockReserved
from shared.contracts.customers import (
    ConsentChanged,
    CustomerErased,
    CustomerRegistered,
    DispatchRefused,
    DispatchReleased,
)
from shared.contracts.dispatch import DispatchAddress, DispatchMessage, DispatchRecipient
from shared.contracts.orders import (
    DispatchRequested,
    OrderCancelled,
    OrderDelivered,
    OrderDispatched,
    OrderFailed,
    OrderLine,
    OrderPlaced,
    OrderStatusChanged,
    Parcel,
)

CONTRACTS: dict[str, type[Contract]] = {
    model.MESSAGE_TYPE: model
    for model in (
        CustomerRegistered,
        ConsentChanged,
        CustomerErased,
        DispatchReleased,
        DispatchRefused,
        OrderPlaced,
        OrderDispatched,
        OrderDelivered,
        OrderFailed,
        OrderCancelled,
        DispatchRequested,
        StockReserved,
        StockRejected,
        StockReleased,
        DispatchMessage,
    )
}

__all__ = [
    "CONTRACTS",
    "ConsentChanged",
    "Contract",
    "CustomerErased",
    "CustomerRegistered",
    "DispatchAddress",
    "DispatchMessage",
    "DispatchRecipient",
    "DispatchRefused",
    "DispatchReleased",
    "DispatchRequested",
    "Money",
    "OrderCancelled",
    "OrderDelivered",
    "OrderDispatched",
    "OrderFailed",
    "OrderLine",
    "OrderPlaced",
    "OrderStatusChanged",
    "Parcel",
    "PersonalContract",
    "StockRejected",
    "StockReleased",
    "StockReserved",
]
