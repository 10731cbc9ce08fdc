"""Messages of the customers service not (yet) in ``shared.contracts``: ids only, never PD."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from shared.contracts import Contract


class ConsentChanged(Contract):
    """A marketing consent for one channel was given or withdrawn."""

    MESSAGE_TYPE = "customers.consent.changed"
    customer_id: UUID
    channel: Literal["email", "sms"]
    granted: bool
