"""What ``GET /api/customers/me/export`` answers (``services/customers/export.py``), as a
model for the OpenAPI document.

Its sections are the data maps' (``shared.data_map.EXPORT_SECTIONS``), so the model is built
from that contract, not from a second list: this service's sections each have their item
model here (a section of the map without one fails at import), and every other service's
sections are the lists that service's internal export answers, passed on as they come
(their shape is that service's; an empty list with a note when it does not answer).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from uuid import UUID

from pydantic import BaseModel, Field, create_model

from shared.data_map import EXPORT_SECTIONS

from ..domain import Channel, OptOutSource, Purpose
from .answers import Absent, Answer, Disclosure, Profile, SubjectRequest

SERVICE = "customers"


class ExportProfile(Profile):
    policy_version: str  # the version the customer accepted


class ConsentRecord(Answer):
    kind: Literal["pd_processing", "marketing_email", "marketing_sms", "cross_border"]
    granted: bool
    policy_version: str
    record: dict[str, Any]  # the Art. 8(4) record as it was written
    recorded_at: datetime
    source: OptOutSource | Absent = None


class Suppression(Answer):
    channel: Channel
    reason: Literal["hard_bounce", "provider_rejected"]
    at: datetime


class PageRequest(Answer):
    """A block or erase request of the account pages from before the register existed."""

    id: UUID
    kind: Literal["block", "erase"]
    status: Literal["received", "done", "refused"]
    filed_at: datetime


class AppSession(Answer):
    kind: Literal["app"]
    started_at: datetime
    last_refresh_at: datetime
    expires_at: datetime
    ended_at: datetime | None
    live: bool


class BrowserSession(Answer):
    kind: Literal["browser"]
    started_at: datetime
    last_seen_at: datetime
    expires_at: datetime
    live: bool


class Actor(Answer):
    """Who used the data: a kind (you, a service, a system task, staff), a service's or
    task's name, a staff member's roles; never an employee's id."""

    kind: str
    name: str | Absent = None
    roles: list[str] | Absent = None


class AuditEntry(Answer):
    at: datetime
    actor: Actor
    action: str
    purpose: Purpose
    fields: list[str]


OWN_SECTIONS: dict[str, Any] = {
    "profile": ExportProfile,
    "consents": list[ConsentRecord],
    "suppressions": list[Suppression],
    "disclosures": list[Disclosure],
    "requests": list[SubjectRequest | PageRequest],
    "sessions": list[AppSession | BrowserSession],
    "audit": list[AuditEntry],
}


def _sections() -> dict[str, Any]:
    fields: dict[str, Any] = {name: (OWN_SECTIONS[name], ...) for name in EXPORT_SECTIONS[SERVICE]}
    for service, names in EXPORT_SECTIONS.items():
        told = f"as the {service} service's internal export answers it (empty with a note when"
        for name in names if service != SERVICE else ():
            fields[name] = (list[dict[str, Any]], Field(description=f"{told} it does not)"))
    return fields


Export: type[BaseModel] = create_model(
    "Export",
    __base__=Answer,
    __doc__="Everything the shop holds about the customer, section by section.",
    **_sections(),
    complete=(bool, Field(description="false when a service did not answer (see notes)")),
    notes=(dict[str, str] | Absent, Field(default=None, description="why a section is empty")),
)
