"""Message contracts: every message body on the broker is one of these pydantic models.

``CONTRACTS`` maps each message type (the AMQP ``type`` property) to its model.
"""

from shared.contracts.base import Contract, Money, PersonalContract
from shared.contracts.catalog import StockRejected, StockReleased, StockReserved
from shared.contracts.courier import DispatchCancelled
from shared.contracts.customers import (
    AccessRevoked,
    ConsentChanged,
    CustomerErased,
    CustomerRegistered,
    DispatchRefused,
    DispatchReleased,
    PolicyPublished,
)
from shared.contracts.dispatch import DispatchAddress, DispatchMessage, DispatchRecipient
from shared.contracts.notifications import NotificationsDepersonalised
from shared.contracts.orders import (
    DispatchRequested,
    OrderAwaitingPayment,
    OrderCancelled,
    OrderDelivered,
    OrderDispatched,
    OrderFailed,
    OrderLine,
    OrderNeedsAttention,
    OrderPaid,
    OrderPlaced,
    OrdersDepersonalised,
    OrderStatusChanged,
    Parcel,
    PaymentCancelled,
    PaymentDeclined,
    PaymentRefunded,
    PaymentStatusChanged,
    PaymentSucceeded,
    RefundPending,
)
from shared.contracts.payments import PaymentRequested, RefundRequested, bank_routing_key

CONTRACTS: dict[str, type[Contract]] = {
    model.MESSAGE_TYPE: model
    for model in (
        AccessRevoked,
        CustomerRegistered,
        ConsentChanged,
        CustomerErased,
        DispatchReleased,
        DispatchRefused,
        PolicyPublished,
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
        OrderAwaitingPayment,
        OrderPaid,
        OrderNeedsAttention,
        PaymentSucceeded,
        PaymentDeclined,
        PaymentCancelled,
        RefundPending,
        PaymentRefunded,
        PaymentRequested,
        RefundRequested,
        DispatchCancelled,
        OrdersDepersonalised,
        NotificationsDepersonalised,
    )
}

__all__ = [
    "CONTRACTS",
    "AccessRevoked",
    "ConsentChanged",
    "Contract",
    "CustomerErased",
    "CustomerRegistered",
    "DispatchAddress",
    "DispatchCancelled",
    "DispatchMessage",
    "DispatchRecipient",
    "DispatchRefused",
    "DispatchReleased",
    "DispatchRequested",
    "Money",
    "NotificationsDepersonalised",
    "OrderAwaitingPayment",
    "OrderCancelled",
    "OrderDelivered",
    "OrderDispatched",
    "OrderFailed",
    "OrderLine",
    "OrderNeedsAttention",
    "OrderPaid",
    "OrderPlaced",
    "OrderStatusChanged",
    "OrdersDepersonalised",
    "Parcel",
    "PaymentCancelled",
    "PaymentDeclined",
    "PaymentRefunded",
    "PaymentRequested",
    "PaymentStatusChanged",
    "PaymentSucceeded",
    "PersonalContract",
    "PolicyPublished",
    "RefundPending",
    "RefundRequested",
    "StockRejected",
    "StockReleased",
    "StockReserved",
    "bank_routing_key",
]
