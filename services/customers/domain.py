"""Rules of the customers service, free of I/O: purposes, sign-in throttling, the release
table, the consent record, the audit hash, the JWK. (The request models: ``request_models.py``.)
"""

from __future__ import annotations

import base64
import hashlib
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal, get_args
from uuid import UUID

from shared.auth import ed25519_thumbprint

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
# The purposes a contact batch (a campaign, a notice to everyone) may be released for, and the
# field that is the contact on each channel.
ContactPurpose = Literal["marketing", "service_communication"]
CONTACT_PURPOSES: frozenset[str] = frozenset(get_args(ContactPurpose))
CONTACT_FIELDS: Mapping[str, PdField] = {"email": "email", "sms": "phone"}
# How a marketing consent was withdrawn outside the account (the consent history shows it):
# an email's unsubscribe link (one_click: RFC 8058; page: its confirmation page) or a STOP SMS.
OptOutSource = Literal["one_click", "page", "sms_stop"]
STATUSES = ("active", "blocked", "erased")
# Where the operator is; a recipient anywhere else is a transfer abroad (Law 94-V art. 16).
HOME_COUNTRY = "KZ"


class PurposeNotAllowed(Exception):
    """A use of personal data without an allowed purpose, or outside the release table."""


def sha256_hex(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


# --- Sign-in throttling and refresh sessions -------------------------------------------------


@dataclass(frozen=True)
class Throttling:
    """Growing delay per (realm, account, client network), never a lock of an account.

    Customers, staff and password changes are counted apart (the realm). Past
    ``free_failures_account`` failures of one account from one network, the next attempt
    from that network waits 2^k seconds (k = failures beyond the free ones), at most
    ``max_delay_s``; the owner signing in from another network is not slowed. Every network
    also has one counter over all accounts (``free_failures_network``: credential stuffing).
    Counters are forgotten after ``forget_after_s`` without a failure.
    """

    free_failures_account: int = 5
    free_failures_network: int = 50
    max_delay_s: int = 900
    forget_after_s: int = 24 * 3600


def backoff_delay_s(failures: int, free: int, max_delay_s: int) -> int:
    """How long after the latest failure the next attempt must wait (0: free)."""
    if failures < free:
        return 0
    return min(max_delay_s, 2 ** min(failures - free, 62))


def new_refresh_token() -> str:
    """An opaque random token for the refresh cookie (only its SHA-256 is stored)."""
    return secrets.token_urlsafe(32)


def refresh_token_hash(token: str) -> bytes:
    return hashlib.sha256(token.encode()).digest()


# --- Releases: which fields each (purpose, recipient kind) may receive ---------------------

ReleasedField = Literal[
    "recipient_name", "full_name", "first_name", "phone", "email", "delivery_address"
]
# An authority is a state body receiving a legal disclosure (art. 9) or a breach notice.
RecipientKind = Literal["courier", "email", "sms", "bank", "authority", "staff"]
RELEASES: Mapping[tuple[str, str], frozenset[ReleasedField]] = {
    ("delivery", "courier"): frozenset({"recipient_name", "phone", "delivery_address"}),
    # Support (policy 3.2.4) calls the customer about an order: whom to ask for and the
    # number to call. No email (mail goes through notifications), no address (the courier
    # has it; a wrong one the customer corrects in the profile), no patronymic.
    ("support", "staff"): frozenset({"recipient_name", "phone"}),
    ("service_communication", "email"): frozenset({"email", "first_name"}),
    ("marketing", "email"): frozenset({"email", "first_name"}),
    ("service_communication", "sms"): frozenset({"phone", "first_name"}),
    ("marketing", "sms"): frozenset({"phone", "first_name"}),
    ("payment", "bank"): frozenset(),
    ("legal_request", "authority"): frozenset({"full_name", "phone", "email", "delivery_address"}),
}
# What a breach notice tells the authorised body of each subject (order No. 481/НҚ).
BREACH_NOTICE_FIELDS: frozenset[ReleasedField] = frozenset({"full_name", "phone"})
# Which stored PD fields a released field is made of.
SOURCES: Mapping[ReleasedField, tuple[PdField, ...]] = {
    "recipient_name": ("first_name", "last_name"),
    "full_name": ("last_name", "first_name", "patronymic"),
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
    """The fields asked for, when the table allows them all: a release carries no more than
    its recipient asked (a legal disclosure names its fields), never the whole row."""
    allowed = release_fields(purpose, kind)
    if not requested <= allowed:
        raise PurposeNotAllowed(f"fields outside the release table for {purpose} to {kind}")
    return frozenset(field for field in allowed if field in requested)


def source_fields(released: frozenset[ReleasedField]) -> tuple[PdField, ...]:
    needed = {source for field in released for source in SOURCES[field]}
    return tuple(field for field in PD_FIELDS if field in needed)


def project(released: frozenset[ReleasedField], pd: Mapping[str, Any]) -> dict[str, Any]:
    """The minimal projection of decrypted PD for a release."""
    out: dict[str, Any] = {}
    for field in sorted(released):
        if field == "recipient_name":
            out[field] = f"{pd['first_name']} {pd['last_name']}"
        elif field == "full_name":
            out[field] = " ".join(pd[part] for part in SOURCES[field] if pd.get(part))
        else:
            out[field] = pd[field]
    return out


# --- Support's contact lookup (policy 3.2.4) -------------------------------------------------

# Why a support agent asks for a customer's contact: a code from this list, never free text
# (an agent's note may carry anyone's personal data; a code is countable and reviewable).
SupportReason = Literal[
    "delivery_problem", "payment_problem", "order_question", "return_or_refund", "customer_callback"
]
# Orders support handles: not yet closed; a closed one only within the window after.
OPEN_ORDER_STATUSES = frozenset({"placed", "awaiting_payment", "paid", "dispatched"})


def support_may_handle(status: str, updated_at: datetime, now: datetime, window_days: int) -> bool:
    """An open order, or one closed at most ``window_days`` ago (its last change)."""
    if status in OPEN_ORDER_STATUSES:
        return True
    return (now - updated_at).total_seconds() <= window_days * 86400


def legal_basis(purpose: str, policy_version: str, country: str = "KZ") -> str:
    if purpose == "legal_request":
        basis = "Law 94-V art. 9 (request of an authorised state body)"
    else:
        basis = f"consent to policy {policy_version}, clause {POLICY_CLAUSE[purpose]}"
    if country != HOME_COUNTRY:
        basis += f"; transfer abroad ({country}) on the consent to it, Law 94-V art. 16"
    return basis


# --- Transfers abroad (Law 94-V art. 16) -----------------------------------------------------


class TransferAbroadNotAllowed(PurposeNotAllowed):
    """A release to a recipient outside Kazakhstan without the customer's consent to it."""

    def __init__(self, country: str) -> None:
        super().__init__("a transfer abroad needs the customer's consent to it")
        self.country = country


@dataclass(frozen=True)
class RecipientCountries:
    """Where each recipient of a release is (ISO 3166-1 alpha-2): per courier and bank code,
    the mail and SMS providers notifications sends through, the support staff. Unlisted: KZ."""

    couriers: Mapping[str, str]
    banks: Mapping[str, str]
    email: str = HOME_COUNTRY
    sms: str = HOME_COUNTRY
    staff: str = HOME_COUNTRY

    def of(self, kind: str, recipient: str) -> str:
        """The country of a recipient (``courier:<code>``, ``bank:<code>``, a channel, staff)."""
        code = recipient.partition(":")[2]
        if kind == "courier":
            return self.couriers.get(code, HOME_COUNTRY)
        if kind == "bank":
            return self.banks.get(code, HOME_COUNTRY)
        if kind == "email":
            return self.email
        if kind == "sms":
            return self.sms
        if kind == "staff":
            return self.staff
        return HOME_COUNTRY  # an authority: a state body of Kazakhstan (art. 9)

    def abroad(self) -> list[dict[str, str]]:
        """The recipients outside Kazakhstan today: what a consent to transfer abroad covers
        (each named as ``recipient_key`` names a release's recipient)."""
        found = [(f"courier:{c}", n) for c, n in self.couriers.items()]
        found += [(f"bank:{b}", n) for b, n in self.banks.items()]
        found += [
            (recipient_key("email", "notifications"), self.email),
            (recipient_key("sms", "notifications"), self.sms),
        ]
        found.append(("staff:support", self.staff))
        return [
            {"recipient": recipient, "country": country}
            for recipient, country in sorted(found)
            if country != HOME_COUNTRY
        ]


def recipient_key(kind: str, recipient: str) -> str:
    """One name per recipient of a release: ``courier:<code>``, ``bank:<code>``,
    ``staff:support``; the channel after a service that sends (``notifications:email``)."""
    return f"{recipient}:{kind}" if kind in ("email", "sms") else recipient


# Third parties by kind, as the processing consent lists them (``THIRD_PARTIES``).
THIRD_PARTY_CATEGORY: Mapping[str, str] = {
    "courier": "couriers (delivery)",
    "bank": "banks (payment)",
}


def unnamed_transfer(
    kind: str,
    recipient: str,
    country: str,
    processing: Mapping[str, Any] | None,
    abroad: Mapping[str, Any] | None,
) -> bool:
    """Whether a release goes to a recipient the customer's consent did not name (Law 94-V
    art. 19(1): the customer is to be told within 10 working days): a third party of a
    category the processing consent does not list, or a recipient abroad the consent to
    transfers abroad did not list when it was given."""
    category = THIRD_PARTY_CATEGORY.get(kind)
    if category is not None:
        listed = (processing or {}).get("third_party_transfer") or {}
        if not listed.get("allowed") or category not in listed.get("recipients", ()):
            return True
    if country != HOME_COUNTRY:
        named = {entry.get("recipient") for entry in (abroad or {}).get("recipients_abroad", ())}
        return recipient_key(kind, recipient) not in named
    return False


def check_transfer(country: str, cross_border_consent: bool) -> None:
    """Refuse a transfer abroad unless the customer consented to transfers abroad."""
    if country != HOME_COUNTRY and not cross_border_consent:
        raise TransferAbroadNotAllowed(country)


# --- Blocking (Law 94-V art. 1: a temporary stop of processing) -----------------------------

# While a customer is blocked nothing is released, except what an order placed before the
# block still needs: it is a contract the customer concluded, an obligation already open
# (art. 8(2) keeps such processing going after a withdrawal too; policy 4.3.2 names the
# transfer to the courier "to carry out the Buyer's order"): the courier's delivery
# projection, the order's status mail, and support's call about it while it is still open
# (``support.py``). An order placed after the block (checkout raced the event to orders) is
# no obligation: its dispatch is refused and the order fails.
OBLIGATION_PURPOSES: frozenset[str] = frozenset({"delivery", "service_communication", "support"})


def placed_before_block(
    purpose: str,
    blocked_at: datetime | None,
    order_ref: str | None,
    order_placed_at: datetime | None,
) -> bool:
    """May this release go to a blocked customer's order? Only for an order placed strictly
    before the block took effect, and only for the purposes that carry an order out; a block
    of unknown time or an order of unknown time is no obligation."""
    return (
        purpose in OBLIGATION_PURPOSES
        and blocked_at is not None
        and order_ref is not None
        and order_placed_at is not None
        and order_placed_at < blocked_at
    )


BLOCK_CONFIRMATION = "block_confirmation"


def confirms_block(
    purpose: str, blocked_at: datetime | None, order_ref: str | None, notice: str | None
) -> bool:
    """May this release go to a blocked customer as the confirmation of their block? The
    answer to their own request (Law 94-V art. 25(2)(8)) is owed: a service message, for no
    order, naming that notice; only the contact for that one mail is released."""
    return (
        purpose == "service_communication"
        and blocked_at is not None
        and order_ref is None
        and notice == BLOCK_CONFIRMATION
    )


def block_confirmation_note(blocked_at: datetime) -> str:
    """What the register adds to the legal basis of the block's confirmation."""
    at = blocked_at.astimezone(UTC).isoformat(timespec="seconds")
    return (
        f"; processing is blocked: released only to confirm to the customer the block of {at}"
        " they asked for (Law 94-V art. 25(2)(8))"
    )


def obligation_note(order_ref: str, blocked_at: datetime) -> str:
    """What the register adds to the legal basis of a release for an order placed before
    the customer blocked processing."""
    at = blocked_at.astimezone(UTC).isoformat(timespec="seconds")
    return (
        f"; processing is blocked: released for an open obligation under Law 94-V art. 8(2),"
        f" order {order_ref} was placed before the block of {at}"
    )


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
THIRD_PARTIES = tuple(THIRD_PARTY_CATEGORY.values())


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
    subject_id: UUID,
    channel: Channel,
    granted: bool,
    at: datetime,
    source: OptOutSource | None = None,
) -> dict[str, Any]:
    """A marketing choice; ``source`` says where a withdrawal outside the account came from."""
    record: dict[str, Any] = {
        "subject_id": str(subject_id),
        "purpose": "marketing",
        "channel": channel,
        "granted": granted,
        "at": at.isoformat(),
    }
    if source is not None:
        record["source"] = source
    return record


def cross_border_record(
    subject_id: UUID, granted: bool, at: datetime, abroad: list[dict[str, str]]
) -> dict[str, Any]:
    """The consent (or its refusal) to transfers abroad, with the recipients abroad it
    names at the time (Law 94-V art. 16, 8(4)): a separate, explicit choice."""
    return {
        "subject_id": str(subject_id),
        "purpose": "cross_border_transfer",
        "granted": granted,
        "recipients_abroad": abroad,
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
