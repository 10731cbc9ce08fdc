"""Events of the notifications service: ids and counts only."""

from __future__ import annotations

from uuid import UUID

from pydantic import Field

from shared.contracts.base import Contract


class NotificationsDepersonalised(Contract):
    """Notifications unlinked an erased customer's delivery log (``CustomerErased``): the
    rows stay until their retention, without the customer id or the release id. Quotes the
    erasure request only, never the customer id, so this body links nobody."""

    MESSAGE_TYPE = "notifications.customer.depersonalised"
    request_id: UUID
    deliveries_unlinked: int = Field(ge=0)
