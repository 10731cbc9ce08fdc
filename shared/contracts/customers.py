"""Events of the customers service: ids only, never personal data."""

from __future__ import annotations

from datetime import date, datetime
from typing import ClassVar, Literal
from uuid import UUID

from pydantic import Field

from shared.contracts.base import Contract


class CustomerRegistered(Contract):
    MESSAGE_TYPE = "customers.customer.registered"
    customer_id: UUID
    locale: str
    policy_version: str
    marketing_email: bool
    marketing_sms: bool


class ConsentChanged(Contract):
    """A marketing consent for one channel was given or withdrawn."""

    MESSAGE_TYPE = "customers.consent.changed"
    customer_id: UUID
    channel: Literal["email", "sms"]
    granted: bool


class AccessRevoked(Contract):
    """Access tokens of a customer end now: one session's (``session_id``, the token's
    ``sid``) or, with ``session_id`` null, every token issued up to ``revoked_at`` (password
    change, erasure). Each service keeps it until ``keep_until``, when the last such token
    has expired anyway. Ids and times only."""

    MESSAGE_TYPE = "customers.access.revoked"
    customer_id: UUID
    session_id: UUID | None
    revoked_at: datetime
    keep_until: datetime


class CustomerBlockChanged(Contract):
    """Base of the blocking events (Law 94-V art. 1: a temporary stop of processing).

    ``version`` grows by one with every block and unblock of the customer (the customers
    database counts it), so a consumer keeps the state of the highest version it has seen: a
    redelivered or late event changes nothing. ``at`` is when the state took effect; orders
    placed before a block are the open obligations it still lets through. Ids and times only.
    """

    MESSAGE_TYPE = "customers.customer.block_changed"
    customer_id: UUID
    version: int = Field(ge=1)
    at: datetime
    BLOCKED: ClassVar[bool]


class CustomerBlocked(CustomerBlockChanged):
    MESSAGE_TYPE = "customers.customer.blocked"
    BLOCKED = True


class CustomerUnblocked(CustomerBlockChanged):
    MESSAGE_TYPE = "customers.customer.unblocked"
    BLOCKED = False


class CustomerErased(Contract):
    """The customer's personal data is shredded (erasure request ``request_id``): every
    service removes the id from its rows and confirms with its own event, quoting the
    request. Sent once every obligation that deferred the erasure (Art. 8(2)) is closed."""

    MESSAGE_TYPE = "customers.customer.erased"
    customer_id: UUID
    request_id: UUID
    erased_at: datetime


class CustomerInactivityNotice(Contract):
    """Retention: the account has not been used for the inactivity period; unless the
    customer signs in, its erasure starts after ``erase_after`` (a date, Asia/Almaty).
    Notifications tells the customer by mail."""

    MESSAGE_TYPE = "customers.customer.inactivity_notice"
    customer_id: UUID
    erase_after: date


class DispatchReleased(Contract):
    """The delivery projection went to the courier (the dispatch message is published)."""

    MESSAGE_TYPE = "customers.dispatch.released"
    dispatch_id: UUID
    order_id: UUID
    release_id: UUID
    courier: str


class DispatchRefused(Contract):
    """No release was possible (e.g. the customer is blocked or erased)."""

    MESSAGE_TYPE = "customers.dispatch.refused"
    dispatch_id: UUID
    order_id: UUID
    reason: str


class PolicyPublished(Contract):
    """A new privacy-policy version was published (policy 5.8); customers are to be told."""

    MESSAGE_TYPE = "customers.policy.published"
    version: str
    effective_date: date
