"""What the privacy officer's desk answers (``privacy.py``), as models for the OpenAPI
document: the queue of requests, the breach register and its notice, legal disclosures.
See ``answers.py`` for ``Absent``."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from shared.answers import page_of

from ..request_models import AuthorityField
from .answers import Absent, Address, Answer, ErasureAccepted, SubjectRequest

# --- Requests of data subjects --------------------------------------------------------------


class DeskRequest(SubjectRequest):
    """The customer's view of the request, and whose it is, who filed and answered it."""

    customer_id: UUID
    filed_by: str
    resolved_by: str | Absent = None
    answered_at_desk: bool


DeskRequests = page_of(DeskRequest, "DeskRequests")


class ResolvedRequest(DeskRequest):
    erasure: ErasureAccepted | Absent = None  # when the answer started the erasure


# --- Breach register ------------------------------------------------------------------------


class Breach(Answer):
    id: UUID
    description: str
    measures: str
    detected_at: datetime
    recorded_at: datetime
    notice_due: date
    overdue: bool
    notice_sent_at: datetime | None
    subjects: int


Breaches = page_of(Breach, "Breaches")


class Operator(Answer):
    name: str
    bin: str


class ResponsiblePerson(Answer):
    name: str
    contact: str


class NoticeSubject(Answer):
    """An affected subject's name and mobile number (``domain.BREACH_NOTICE_FIELDS``)."""

    full_name: str
    phone: str


class Withheld(Answer):
    """Subjects counted, not listed: erased (nothing to release) or blocked."""

    erased: int
    blocked: int


class BreachNotice(Answer):
    breach_id: UUID
    recipient: str
    legal_basis: str
    operator: Operator
    responsible_person: ResponsiblePerson
    what_happened: str
    detected_at: datetime
    measures: str
    notice_due: date
    overdue: bool
    notice_sent_at: datetime | None
    subjects: list[NoticeSubject]
    withheld: Withheld


# --- Legal disclosures (art. 9) -------------------------------------------------------------


class LegalDisclosure(Answer):
    id: UUID
    release_id: UUID
    customer_id: UUID
    authority: str
    basis: str
    fields: list[AuthorityField]
    confidential: bool
    confidentiality_ref: str | None
    disclosed_by: UUID
    at: datetime


LegalDisclosures = page_of(LegalDisclosure, "LegalDisclosures")


class DisclosedValues(Answer):
    """The values to hand over: the fields the disclosure names, no others."""

    full_name: str | Absent = None
    phone: str | Absent = None
    email: str | Absent = None
    delivery_address: Address | Absent = None


class LegalDisclosureDone(LegalDisclosure):
    values: DisclosedValues
