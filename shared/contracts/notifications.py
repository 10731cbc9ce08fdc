"""Events of the notifications service: ids and counts only."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
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


class MarketingUnsubscribed(Contract):
    """A customer withdrew a channel's marketing consent through notifications: the
    unsubscribe link of an email (``one_click``: RFC 8058 POST; ``page``: the confirmation
    page's button) or an inbound STOP by SMS (``sms_stop``). The customers service records
    the withdrawal in the consent history. Ids only."""

    MESSAGE_TYPE = "notifications.marketing.unsubscribed"
    customer_id: UUID
    channel: Literal["email", "sms"]
    via: Literal["one_click", "page", "sms_stop"]
    campaign_id: UUID | None = None
    at: datetime


class ContactSuppressed(Contract):
    """A contact refused for good (a hard bounce: a permanent 5xx from the SMTP server; a
    provider's rejection of an SMS): no more marketing on that channel until the customer
    changes that contact. Recorded without the address; the customers service keeps it."""

    MESSAGE_TYPE = "notifications.contact.suppressed"
    customer_id: UUID
    channel: Literal["email", "sms"]
    reason: Literal["hard_bounce", "provider_rejected"]
    at: datetime
