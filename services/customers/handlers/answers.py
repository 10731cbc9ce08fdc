"""What the customers handlers answer, as models for the OpenAPI documents (``routes.py``):
the account, its sessions and consents, the policy, the customer's requests (block, erase,
the others), support's lookup and the internal releases. The officer's desk is in
``desk_answers.py``, the export in ``export_answer.py``.

The handlers build their answers as they always did; these models describe them, and the
schemathesis run (tests/customers/test_openapi.py) checks live answers against them. A key
the handler leaves out when it has no value is ``X | Absent = None``: not in the schema's
``required``, and never ``null``; ``X | None`` is a key always there that can be null.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal
from uuid import UUID

from shared.answers import Absent, Answer

from ..domain import Channel, Locale, OptOutSource, Purpose, ReleasedField, SupportReason
from ..rights import ErasureReason, RequestKind, RequestStatus

CustomerStatus = Literal["active", "blocked", "erased"]  # domain.STATUSES


# --- Policy, keys, sign-in ----------------------------------------------------------------


class PolicyVersion(Answer):
    version: str
    effective_date: date
    sha256: str
    sha256_kk: str


class PolicyText(PolicyVersion):
    lang: Literal["ru", "kk"]
    text: str


class PolicyAccepted(Answer):
    policy_version: str
    recorded: bool


class Jwk(Answer):
    kty: Literal["OKP"]
    crv: Literal["Ed25519"]
    x: str
    kid: str
    use: Literal["sig"]
    alg: Literal["EdDSA"]


class Jwks(Answer):
    keys: list[Jwk]


class Registered(Answer):
    id: UUID


class AccessToken(Answer):
    access_token: str
    token_type: Literal["Bearer"]
    expires_in: int


class SessionToken(AccessToken):
    """A customer's sign-in or refresh (the refresh token is the cookie, not in the body)."""

    policy_version: str
    policy_acceptance_required: bool


# --- The account ----------------------------------------------------------------------------


class Address(Answer):
    city: str
    street: str
    house: str
    apartment: str | Absent = None
    postal_code: str | Absent = None
    comment: str | Absent = None


class Profile(Answer):
    """The customer's own data: the personal data fields (``domain.PD_FIELDS``, decrypted)
    and the account's."""

    id: UUID
    last_name: str
    first_name: str
    patronymic: str | None
    phone: str
    email: str
    delivery_address: Address
    locale: Locale
    status: CustomerStatus
    created_at: datetime


class Disclosure(Answer):
    """One release of the customer's data: to whom, where, why, which fields."""

    release_id: UUID
    recipient: str
    purpose: Purpose
    fields: list[ReleasedField]
    at: datetime
    order_ref: str | None
    reference: UUID | None  # the campaign or notice of a contact batch
    legal_basis: str
    country: str
    reason: SupportReason | Absent = None  # a support lookup's reason code


class Disclosures(Answer):
    items: list[Disclosure]


class MarketingConsent(Answer):
    email: bool
    sms: bool


class RecipientAbroad(Answer):
    recipient: str
    country: str


class MarketingChange(Answer):
    channel: Channel
    granted: bool
    at: datetime
    source: OptOutSource | Absent = None  # withdrawn outside the account


class Consents(Answer):
    policy_version: str
    marketing: MarketingConsent
    cross_border_transfer: bool
    recipients_abroad: list[RecipientAbroad]
    marketing_history: list[MarketingChange]


# --- Requests of the data subject -----------------------------------------------------------


class SubjectRequest(Answer):
    """A request in the register, as the customer reads it."""

    id: UUID
    kind: RequestKind
    status: RequestStatus
    filed_at: datetime
    due: date
    overdue: bool
    reason: str | Absent = None
    resolution: str | Absent = None
    resolved_at: datetime | Absent = None
    detail: str | Absent = None  # the customer's own words


class SubjectRequests(Answer):
    items: list[SubjectRequest]


class BlockFiled(Answer):
    """A block or unblock request (self-service completes at once; ``due`` otherwise)."""

    request_id: UUID
    status: RequestStatus
    due: date
    filed_at: datetime
    reason: str | Absent = None
    resolution: str | Absent = None


class ErasureConfirmations(Answer):
    """Which services confirmed they removed the customer id (``rights.CONFIRMING_SERVICES``)."""

    orders: bool
    notifications: bool


class ErasureAccepted(Answer):
    """``completed``, ``in_progress`` (shredded, the services confirming) or ``deferred``
    (then why, in words, and when it completes, with the orders it waits for)."""

    request_id: UUID
    status: Literal["in_progress", "deferred", "completed"]
    due: date
    confirmations: ErasureConfirmations
    reason: ErasureReason | Absent = None
    reason_text: str | Absent = None
    completes_when: str | Absent = None
    open_orders: list[str] | Absent = None


# --- Support and the internal releases ------------------------------------------------------


class SupportContact(Answer):
    name: str
    phone: str


class ContactLookupDone(Answer):
    release_id: UUID
    order_id: UUID
    order_ref: str
    reason: SupportReason
    contact: SupportContact
    locale: Locale


class ReleasedFields(Answer):
    """The projection released (``domain.RELEASES``): only the fields the purpose allows."""

    recipient_name: str | Absent = None
    full_name: str | Absent = None
    first_name: str | Absent = None
    phone: str | Absent = None
    email: str | Absent = None
    delivery_address: Address | Absent = None


class ReleaseDone(Answer):
    release_id: UUID
    locale: Locale
    fields: ReleasedFields


class Audience(Answer):
    audience: int


class BatchContact(Answer):
    customer_id: UUID
    release_id: UUID
    locale: Locale
    first_name: str
    contact: str  # the email or the phone, by the batch's channel


class ContactBatch(Answer):
    items: list[BatchContact]
    next_after: UUID | None  # None at the end


class SmsStopDone(Answer):
    withdrawn: bool
