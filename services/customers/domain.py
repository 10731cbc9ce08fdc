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
STATUSES = ("active", "blocked", "erased")


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
RecipientKind = Literal["courier", "email", "sms", "bank", "authority"]
RELEASES: Mapping[tuple[str, str], frozenset[ReleasedField]] = {
    ("delivery", "courier"): frozenset({"recipient_name", "phone", "delivery_address"}),
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


def legal_basis(purpose: str, policy_version: str) -> str:
    if purpose == "legal_request":
        return "Law 94-V art. 9 (request of an authorised state body)"
    return f"consent to policy {policy_version}, clause {POLICY_CLAUSE[purpose]}"


# --- Blocking (Law 94-V art. 1: a temporary stop of processing) -----------------------------

# While a customer is blocked nothing is released, except what an order placed before the
# block still needs: it is a contract the customer concluded, an obligation already open
# (art. 8(2) keeps such processing going after a withdrawal too; policy 4.3.2 names the
# transfer to the courier "to carry out the Buyer's order"): the courier's delivery
# projection and the order's status mail. An order placed after the block (checkout raced
# the event to orders) is no obligation: its dispatch is refused and the order fails.
OBLIGATION_PURPOSES: frozenset[str] = frozenset({"delivery", "service_communication"})


def open_obligation(
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


def obligation_basis(
    purpose: str, policy_version: str, order_ref: str, blocked_at: datetime
) -> str:
    """The register's legal basis of a release made while the customer is blocked."""
    return (
        f"open obligation under Law 94-V art. 8(2): order {order_ref} was placed before"
        f" processing was blocked at {blocked_at.astimezone(UTC).isoformat(timespec='seconds')}"
        f"; {legal_basis(purpose, policy_version)}"
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
