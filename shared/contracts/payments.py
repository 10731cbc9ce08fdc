"""Messages for bank adapters on exchange ``shop.payments`` (routing key ``bank.<code>``).

A bank learns the payment id, the order reference, the amount, the currency, a description
without item names and the return URL: nothing about the person (no customer id, name,
email or phone). Both bodies forbid extra fields, so nothing more can slip through.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from pydantic import ConfigDict, Field

from shared.contracts.base import Contract


class _BankMessage(Contract):
    model_config = ConfigDict(frozen=True, extra="forbid")


class PaymentRequested(_BankMessage):
    """Orders asks the bank to take a card payment on its hosted page."""

    MESSAGE_TYPE = "payments.payment.requested"
    payment_id: UUID
    order_ref: str
    amount: int = Field(gt=0)
    currency: Literal["KZT"] = "KZT"
    description: str = Field(max_length=200)
    return_url: str = Field(max_length=500)


class RefundRequested(_BankMessage):
    """Orders asks the bank to give a captured payment back in full."""

    MESSAGE_TYPE = "payments.refund.requested"
    payment_id: UUID
    order_ref: str
    amount: int = Field(gt=0)
    currency: Literal["KZT"] = "KZT"


def bank_routing_key(code: str) -> str:
    return f"bank.{code}"
