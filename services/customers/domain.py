"""Rules of the customers service, free of I/O: input models, purposes, releases, consent.

Validation messages never quote the value sent (it is personal data).
"""

from __future__ import annotations

import base64
import hashlib
import ipaddress
import json
import math
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any, Literal, get_args
from uuid import UUID

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    StrictBool,
    StringConstraints,
    model_validator,
)

from shared.auth import ed25519_thumbprint
from shared.text import plain_text

# Purposes (policy 3.2; legal_request for state bodies, 4.3.2): a closed list.
Purpose = Literal[
    "identification",
    "payment",
    "delivery",
    "support",
    "personalisation",
    "service_communication",
    "service_improvement",
    "marketing",
    "legal_request",
]
PURPOSES: frozenset[str] = frozenset(get_args(Purpose))
POLICY_CLAUSE: Mapping[str, str] = {
    "identification": "3.2.1",
    "payment": "3.2.2",
    "delivery": "3.2.3",
    "support": "3.2.4",
    "personalisation": "3.2.5",
    "service_communication": "3.2.6",
    "service_improvement": "3.2.7",
    "marketing": "3.2.8",
    "legal_request": "4.3.2",
}

Locale = Literal["ru", "kk", "en"]
Channel = Literal["email", "sms"]
PdField = Literal["last_name", "first_name", "patronymic", "phone", "email", "delivery_address"]
PD_FIELDS: tuple[PdField, ...] = get_args(PdField)
REQUIRED_PD: tuple[PdField, ...] = tuple(f for f in PD_FIELDS if f != "patronymic")
STATUSES = ("active", "blocked", "erased")


class PurposeNotAllowed(Exception):
    """A use of personal data without an allowed purpose, or outside the release table."""


# --- Normalisation -------------------------------------------------------------------------


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


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class DeliveryAddress(Strict):
    city: ShortText
    street: ShortText
    house: House
    apartment: Apartment | None = None
    postal_code: Annotated[str, StringConstraints(pattern=r"^[0-9]{6}$")] | None = None
    comment: Comment | None = None


class MarketingChoice(Strict):
    # Separate, unticked by default (DESIGN §4.1), and only an explicit JSON true or false
    # (law 94-V art. 8): "yes", "on" or 1 are refused, not read as a consent.
    email: StrictBool = False
    sms: StrictBool = False


class RegisterRequest(Strict):
    last_name: Name
    first_name: Name
    patronymic: Name | None = None
    phone: Phone
    email: Email
    password: Password
    delivery_address: DeliveryAddress
    accept_policy_version: Annotated[str, StringConstraints(max_length=40)]
    marketing: MarketingChoice = MarketingChoice()
    locale: Locale = "ru"


class ProfilePatch(Strict):
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


class LoginRequest(Strict):
    login: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=254)]
    password: Annotated[SecretStr, Field(max_length=256)]


class StaffLoginRequest(Strict):
    email: Annotated[str, StringConstraints(max_length=254)]
    password: Annotated[SecretStr, Field(max_length=256)]


class ConsentsUpdate(Strict):
    marketing: MarketingChoice


class ReleaseRequest(Strict):
    customer_id: UUID
    purpose: Purpose
    recipient: Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(:[a-z0-9_-]+)?$")]
    channel: Channel
    order_ref: Annotated[str, StringConstraints(max_length=64)] | None = None


class PolicyQuery(Strict):
    lang: Literal["ru", "kk"] = "ru"


PolicyVersionId = Annotated[str, StringConstraints(pattern=r"^[0-9A-Za-z][0-9A-Za-z._-]{0,39}$")]


class PolicyVersionIn(Strict):
    """A new policy version published by the privacy officer (policy 5.8)."""

    version: PolicyVersionId
    effective_date: date
    text_ru: Annotated[str, StringConstraints(min_length=1, max_length=500_000)]
    text_kk: Annotated[str, StringConstraints(min_length=1, max_length=500_000)]


class PolicyAcceptance(Strict):
    version: Annotated[str, StringConstraints(max_length=40)]


class PasswordChange(Strict):
    current_password: Annotated[SecretStr, Field(max_length=256)]
    new_password: Password


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Sign-in throttling and refresh sessions -------------------------------------------------


@dataclass(frozen=True)
class Throttling:
    window_s: int = 900
    lockout_s: int = 900
    max_failures_account: int = 5
    max_failures_network: int = 50


def client_network(real_ip: str | None, forwarded_for: str | None, peer: str | None) -> str:
    """The client's network as the gateway saw it, truncated to /24 (IPv4) or /48 (IPv6).

    nginx sets X-Real-IP (and X-Forwarded-For) to the address it sees; the full address is
    never kept, only this network.
    """
    candidates = [real_ip, (forwarded_for or "").split(",")[-1], peer]
    for candidate in candidates:
        try:
            address = ipaddress.ip_address((candidate or "").strip())
        except ValueError:
            continue
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        prefix = 24 if address.version == 4 else 48
        return str(ipaddress.ip_network(f"{address}/{prefix}", strict=False))
    return "unknown"


def retry_after_s(locked_until: datetime, at: datetime) -> int:
    return max(1, math.ceil((locked_until - at).total_seconds()))


def new_refresh_token() -> str:
    """An opaque random token for the refresh cookie (only its SHA-256 is stored)."""
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


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


# --- Releases: which fields each (purpose, recipient kind) may receive ---------------------

ReleasedField = Literal["recipient_name", "first_name", "phone", "email", "delivery_address"]
RecipientKind = Literal["courier", "email", "sms", "bank"]
RELEASES: Mapping[tuple[str, str], frozenset[ReleasedField]] = {
    ("delivery", "courier"): frozenset({"recipient_name", "phone", "delivery_address"}),
    ("service_communication", "email"): frozenset({"email", "first_name"}),
    ("marketing", "email"): frozenset({"email", "first_name"}),
    ("service_communication", "sms"): frozenset({"phone", "first_name"}),
    ("marketing", "sms"): frozenset({"phone", "first_name"}),
    ("payment", "bank"): frozenset(),
}
# Which stored PD fields a released field is made of.
SOURCES: Mapping[ReleasedField, tuple[PdField, ...]] = {
    "recipient_name": ("first_name", "last_name"),
    "first_name": ("first_name",),
    "phone": ("phone",),
    "email": ("email",),
    "delivery_address": ("delivery_address",),
}


def release_fields(purpose: str, kind: str) -> frozenset[ReleasedField]:
    """The fields a (purpose, recipient kind) pair may receive; refused when not in the table."""
    fields = RELEASES.get((purpose, kind))
    if fields is None:
        raise PurposeNotAllowed(f"no release of personal data for {purpose} to {kind}")
    return fields


def check_release(purpose: str, kind: str, requested: frozenset[str]) -> frozenset[ReleasedField]:
    allowed = release_fields(purpose, kind)
    if not requested <= allowed:
        raise PurposeNotAllowed(f"fields outside the release table for {purpose} to {kind}")
    return allowed


def source_fields(released: frozenset[ReleasedField]) -> tuple[PdField, ...]:
    needed = {source for field in released for source in SOURCES[field]}
    return tuple(field for field in PD_FIELDS if field in needed)


def project(released: frozenset[ReleasedField], pd: Mapping[str, Any]) -> dict[str, Any]:
    """The minimal projection of decrypted PD for a release."""
    out: dict[str, Any] = {}
    for field in sorted(released):
        if field == "recipient_name":
            out[field] = f"{pd['first_name']} {pd['last_name']}"
        else:
            out[field] = pd[field]
    return out


def legal_basis(purpose: str, policy_version: str) -> str:
    if purpose == "legal_request":
        return "Law 94-V art. 9 (request of an authorised state body)"
    return f"consent to policy {policy_version}, clause {POLICY_CLAUSE[purpose]}"


# --- Consent record (Law 94-V art. 8(4)) -----------------------------------------------------

DATA_LIST = (
    "last_name",
    "first_name",
    "patronymic (optional)",
    "phone",
    "email",
    "delivery_address",
)
CONSENT_TERM = "until the purposes are achieved or the consent is withdrawn (Law 94-V art. 8)"
THIRD_PARTIES = ("couriers (delivery)", "banks (payment)")


@dataclass(frozen=True)
class Operator:
    name: str
    bin: str


def consent_record(
    *,
    operator: Operator,
    subject_id: UUID,
    policy_version: str,
    policy_sha256: str,
    accepted_at: datetime,
) -> dict[str, Any]:
    """The provable content of the processing consent: no PD values, only what and why."""
    return {
        "operator": {"name": operator.name, "bin": operator.bin},
        "subject_id": str(subject_id),
        "policy_version": policy_version,
        "policy_sha256": policy_sha256,
        "data": list(DATA_LIST),
        "purposes": sorted(PURPOSES - {"legal_request"}),
        "term": CONSENT_TERM,
        "third_party_transfer": {"allowed": True, "recipients": list(THIRD_PARTIES)},
        "cross_border_transfer": False,
        "published": False,
        "accepted_at": accepted_at.isoformat(),
    }


def marketing_record(
    subject_id: UUID, channel: Channel, granted: bool, at: datetime
) -> dict[str, Any]:
    return {
        "subject_id": str(subject_id),
        "purpose": "marketing",
        "channel": channel,
        "granted": granted,
        "at": at.isoformat(),
    }


# --- Audit hash chain ----------------------------------------------------------------------

GENESIS = b"\x00" * 32


@dataclass(frozen=True)
class AuditEntry:
    at: datetime
    actor: str
    action: str
    customer_id: UUID
    purpose: str
    fields: tuple[str, ...]


def audit_hash(previous: bytes, entry: AuditEntry) -> bytes:
    payload = json.dumps(
        {
            "at": entry.at.isoformat(),
            "actor": entry.actor,
            "action": entry.action,
            "customer_id": str(entry.customer_id),
            "purpose": entry.purpose,
            "fields": list(entry.fields),
        },
        sort_keys=True,
        separators=(",", ":"),
    ).encode()
    return hashlib.sha256(previous + payload).digest()


# --- JWKS ----------------------------------------------------------------------------------


def ed25519_jwk(raw_public_key: bytes) -> dict[str, str]:
    x = base64.urlsafe_b64encode(raw_public_key).rstrip(b"=").decode()
    return {
        "kty": "OKP",
        "crv": "Ed25519",
        "x": x,
        "kid": ed25519_thumbprint(raw_public_key),
        "use": "sig",
        "alg": "EdDSA",
    }
