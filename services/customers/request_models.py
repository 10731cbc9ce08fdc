"""The request models of the customers API (the account pages validate with the same ones),
and the normalisation of phones and emails they apply.

Every model forbids extra fields; validation messages never quote the value sent (it is
personal data).
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime, timedelta
from typing import Annotated, Literal
from uuid import UUID

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StrictInt,
    StringConstraints,
    field_validator,
    model_validator,
)

from shared.models import StrictBody
from shared.text import plain_paragraphs, plain_text

from .domain import (
    PD_FIELDS,
    REQUIRED_PD,
    Channel,
    ContactPurpose,
    Locale,
    PdField,
    Purpose,
    SupportReason,
)
from .rights import Outcome, QueueStatus, RefusalReason, RequestKind


def normalise_phone(value: str) -> str:
    """A Kazakhstan (or international) phone number as E.164, or ValueError."""
    try:
        number = phonenumbers.parse(value, "KZ")
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number") from None
    if not phonenumbers.is_valid_number(number):
        raise ValueError("not a valid phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(value: str) -> str:
    """A syntactically valid email, lower-cased (no deliverability check), or ValueError."""
    try:
        result = validate_email(value, check_deliverability=False)
    except EmailNotValidError:
        raise ValueError("not a valid email address") from None
    return result.normalized.lower()


def login_kind(login: str) -> Literal["email", "phone"]:
    return "email" if "@" in login else "phone"


# --- Input models --------------------------------------------------------------------------

# Every personal-data text field is trimmed, bounded and plain (shared.text.plain_text: no
# control or bidi formatting characters, not only invisible ones): it goes out to couriers.
_Plain = AfterValidator(plain_text)
Name = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=100), _Plain
]
ShortText = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200), _Plain
]
House = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=20), _Plain
]
Apartment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=20), _Plain]
Comment = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500), _Plain]
Phone = Annotated[str, StringConstraints(max_length=32), AfterValidator(normalise_phone)]
Email = Annotated[str, StringConstraints(max_length=254), AfterValidator(normalise_email)]
Password = Annotated[SecretStr, Field(min_length=8, max_length=256)]


class DeliveryAddress(StrictBody):
    city: ShortText
    street: ShortText
    house: House
    apartment: Apartment | None = None
    postal_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = None
    comment: Comment | None = None


class MarketingChoice(StrictBody):
    # Separate, unticked by default (DESIGN §4.1), and only an explicit JSON true or false
    # (law 94-V art. 8): "yes", "on" or 1 are refused, not read as a consent.
    email: StrictBool = False
    sms: StrictBool = False


class RegisterRequest(StrictBody):
    last_name: Name
    first_name: Name
    patronymic: Name | None = None
    phone: Phone
    email: Email
    password: Password
    delivery_address: DeliveryAddress
    accept_policy_version: Annotated[str, StringConstraints(max_length=40)]
    marketing: MarketingChoice = MarketingChoice()
    # Transfers abroad (Law 94-V art. 16): separate from the rest, unticked, an explicit true.
    cross_border_transfer: StrictBool = False
    locale: Locale = "ru"


class ProfilePatch(StrictBody):
    last_name: Name | None = None
    first_name: Name | None = None
    patronymic: Name | None = None
    phone: Phone | None = None
    email: Email | None = None
    delivery_address: DeliveryAddress | None = None
    locale: Locale | None = None

    @model_validator(mode="after")
    def _required_stay(self) -> ProfilePatch:
        for field in REQUIRED_PD:
            if field in self.model_fields_set and getattr(self, field) is None:
                raise ValueError(f"{field} cannot be removed, only changed")
        if "locale" in self.model_fields_set and self.locale is None:
            raise ValueError("locale cannot be removed, only changed")
        return self


class LoginRequest(StrictBody):
    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[SecretStr, Field(max_length=256)]


class StaffLoginRequest(StrictBody):
    email: Annotated[str, StringConstraints(max_length=254)]
    password: Annotated[SecretStr, Field(max_length=256)]


class ConsentsUpdate(StrictBody):
    """Marketing per channel and the consent to transfers abroad; what is left out stays."""

    marketing: MarketingChoice | None = None
    cross_border_transfer: StrictBool | None = None

    def grants(self) -> bool:
        """Whether it gives a consent (new processing: the current policy must be accepted)."""
        marketing = self.marketing is not None and (self.marketing.email or self.marketing.sms)
        return marketing or self.cross_border_transfer is True


class ReleaseRequest(StrictBody):
    customer_id: UUID
    purpose: Purpose
    recipient: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(:[a-z0-9_-]+)?$")]
    channel: Channel
    order_ref: Annotated[str, StringConstraints(max_length=64)] | None = None
    # When the order was placed: for a blocked customer, an order placed before the block is
    # an open obligation whose status mail may still go (domain.placed_before_block).
    order_placed_at: AwareDatetime | None = None
    # The one notice owed to a blocked customer beside their orders: the confirmation that
    # processing is stopped, the answer to their own request (domain.BLOCK_CONFIRMATION).
    notice: Literal["block_confirmation"] | None = None


class AudienceQuery(StrictBody):
    purpose: ContactPurpose
    channel: Channel


class ContactBatchRequest(StrictBody):
    """The next page of a campaign's (or a notice's) audience, after a customer id."""

    purpose: ContactPurpose
    channel: Channel
    reference: UUID  # the campaign or the notice the releases are for
    after: UUID | None = None
    limit: Annotated[StrictInt, Field(ge=1, le=1000)]


class SmsStop(StrictBody):
    """A STOP received by SMS: the sender's number as the provider gave it (any writing of a
    valid number; normalised to E.164 as at registration)."""

    phone: Phone


class ContactLookup(StrictBody):
    """Support asks for the contact of the customer of one order, saying why (a code)."""

    order_id: UUID
    reason: SupportReason


class PolicyQuery(StrictBody):
    lang: Literal["ru", "kk"] = "ru"


PolicyVersionId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")]


class PolicyVersionIn(StrictBody):
    """A new policy version published by the privacy officer (policy 5.8)."""

    version: PolicyVersionId
    effective_date: date
    text_ru: Annotated[str, StringConstraints(min_length=1, max_length=500_000)]
    text_kk: Annotated[str, StringConstraints(min_length=1, max_length=500_000)]


class PolicyAcceptance(StrictBody):
    version: Annotated[str, StringConstraints(max_length=40)]


class PasswordChange(StrictBody):
    current_password: Annotated[SecretStr, Field(max_length=256)]
    new_password: Password


class ErasureRequestIn(StrictBody):
    """``DELETE /api/customers/me``: the password again, so a stolen token cannot erase."""

    password: Annotated[SecretStr, Field(min_length=1, max_length=256)]


CustomerRequestKind = Literal["withdraw_consent", "objection", "access", "rectification"]


class SubjectRequestIn(StrictBody):
    """A request of the data subject (rights.FILED_BY_CUSTOMER); the detail is their words."""

    kind: CustomerRequestKind
    detail: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
            AfterValidator(plain_paragraphs),
        ]
        | None
    ) = None


# Why a privacy officer blocks or unblocks a customer's data (a code, recorded as the request's
# reason): the customer asked through another channel (a letter, a call), their data was
# found inaccurate or its processing unlawful (blocked while it is checked), an authorised
# body ordered it, or the check is done (unblock).
StaffBlockReason = Literal[
    "subject_request", "inaccurate_data", "unlawful_processing", "authority_order", "checked"
]


class StaffBlockIn(StrictBody):
    """A privacy officer's block or unblock: the reason code and, if needed, a short note (the
    officer's reasoned answer, kept with the request; no personal data belongs in it)."""

    reason: StaffBlockReason
    note: (
        Annotated[
            str,
            StringConstraints(strip_whitespace=True, min_length=1, max_length=500),
            _Plain,
        ]
        | None
    ) = None


def pd_values(request: RegisterRequest | ProfilePatch) -> dict[PdField, str | None]:
    """The PD fields a request sets, as the strings the vault encrypts (address as JSON)."""
    values: dict[PdField, str | None] = {}
    for field in PD_FIELDS:
        if field not in request.model_fields_set and not isinstance(request, RegisterRequest):
            continue
        value = getattr(request, field)
        if isinstance(value, DeliveryAddress):
            values[field] = json.dumps(value.model_dump(), ensure_ascii=False, sort_keys=True)
        else:
            values[field] = value
    return values


# --- The privacy officer's desk ---------------------------------------------------------

# Staff text kept in a register (a breach's description, its measures): plain paragraphs.
StaffText = Annotated[
    str,
    StringConstraints(strip_whitespace=True, min_length=1, max_length=4000),
    AfterValidator(plain_paragraphs),
]
StaffNote = Annotated[
    str, StringConstraints(strip_whitespace=True, max_length=4000), AfterValidator(plain_paragraphs)
]
# A moment of detection more than this ahead of the server's clock is a typing error.
CLOCK_SKEW = timedelta(minutes=5)


class BreachIn(StrictBody):
    """A breach for the register (art. 25(2)(8)): what happened, when it was detected, the
    measures taken so far and whom it touched (customer ids, when known)."""

    description: StaffText
    detected_at: AwareDatetime
    measures: StaffNote = ""
    customer_ids: Annotated[tuple[UUID, ...], Field(max_length=100_000)] = ()

    @field_validator("detected_at")
    @classmethod
    def _not_in_future(cls, value: datetime) -> datetime:
        if value > datetime.now(UTC) + CLOCK_SKEW:
            raise ValueError("a breach cannot be detected in the future")
        return value


class BreachPatch(StrictBody):
    """Later knowledge of a breach: the measures as they now stand (replacing the earlier
    text), more customers it touched."""

    measures: StaffNote | None = None
    add_customer_ids: Annotated[tuple[UUID, ...], Field(max_length=100_000)] = ()

    @model_validator(mode="after")
    def _something_changes(self) -> BreachPatch:
        if self.measures is None and not self.add_customer_ids:
            raise ValueError("give measures or add_customer_ids")
        return self


AuthorityField = Literal["full_name", "phone", "email", "delivery_address"]
Reference = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500), _Plain
]


class LegalDisclosureIn(StrictBody):
    """A disclosure to a state body without consent (art. 9): who asks, on which ground,
    which fields; ``confidential`` when a law forbids telling the subject, naming that law."""

    customer_id: UUID
    authority: ShortText
    basis: Reference
    fields: Annotated[tuple[AuthorityField, ...], Field(min_length=1, max_length=4)]
    confidential: StrictBool = False
    confidentiality_ref: Reference | None = None

    @model_validator(mode="after")
    def _confidential_names_its_law(self) -> LegalDisclosureIn:
        if self.confidential and self.confidentiality_ref is None:
            raise ValueError("a confidential disclosure names the law that forbids telling")
        if not self.confidential and self.confidentiality_ref is not None:
            raise ValueError("confidentiality_ref is only for a confidential disclosure")
        return self


class DeskPage(BaseModel):
    """Paging of the desk's lists (query string; other parameters are ignored)."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=50, ge=1, le=200)
    cursor: Annotated[str, StringConstraints(max_length=300)] | None = None


class LegalDisclosuresQuery(DeskPage):
    customer_id: UUID | None = None


class ResolveIn(StrictBody):
    """The desk's answer to a request: the outcome and the officer's reasoned words, which
    the customer reads; a refusal names its reason."""

    outcome: Outcome
    answer: Annotated[
        str,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=2000),
        AfterValidator(plain_paragraphs),
    ]
    reason: RefusalReason | None = None

    @model_validator(mode="after")
    def _refusal_has_a_reason(self) -> ResolveIn:
        if self.outcome == "refused" and self.reason is None:
            raise ValueError("a refusal needs a reason")
        if self.outcome == "completed" and self.reason is not None:
            raise ValueError("a reason is only for a refusal")
        return self


class RequestsQuery(DeskPage):
    status: QueueStatus = "open"
    kind: RequestKind | None = None
