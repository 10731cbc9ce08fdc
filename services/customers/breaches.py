"""The breach register (Law 94-V art. 25(2)(8), art. 1(15-1); order No. 481/НҚ of 09.08.2024).

A breach is recorded with what happened, when it was detected and whom it touched; the
notice to the authorised body is due one working day of Kazakhstan after the day of
detection (``shared.workdays``). The notice's draft names the operator, the person
responsible for the processing of personal data and the measures taken, and carries each
affected subject's name and mobile number: a release for purpose ``legal_request`` to the
authorised body, made once per subject and breach and written to that subject's disclosure
register (a later draft reads the same fields again, audited, without a second release).

The description and the measures are staff text that may name people: they are kept in the
register and shown to the privacy officer, never logged.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

from shared import paging, workdays
from shared.db import DbConn
from shared.paging import BadCursor

from . import storage
from .domain import BREACH_NOTICE_FIELDS, Operator, project, source_fields
from .personal_data import CustomerBlocked, CustomerUnavailable, PdGate

# Working days the notice to the authorised body may take from the day of detection.
NOTICE_WORKING_DAYS = 1
NOTICE_RECIPIENT = "authority:authorised body for personal data protection"
NOTICE_BASIS = (
    "Law 94-V art. 25(2)(8): notice of a breach to the authorised body"
    " (order No. 481/НҚ of 09.08.2024)"
)


class BreachNotFound(Exception):
    """No breach with that id."""


class NoticeAlreadySent(Exception):
    """The notice of this breach was marked sent before."""


class UnknownCustomers(Exception):
    """Some of the customer ids given are not customers of the shop (how many, not which)."""

    def __init__(self, count: int) -> None:
        super().__init__(f"{count} customer id(s) unknown")
        self.count = count


@dataclass(frozen=True)
class Responsible:
    """The person responsible for organising the processing of PD (art. 25(3))."""

    name: str
    contact: str


@dataclass(frozen=True)
class BreachPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def notice_due(detected_at: datetime) -> date:
    return workdays.due_date(detected_at, NOTICE_WORKING_DAYS)


def is_overdue(row: storage.BreachRow, today: date) -> bool:
    return row.notice_sent_at is None and row.notice_due < today


def breach_item(row: storage.BreachRow, today: date) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "description": row.description,
        "measures": row.measures,
        "detected_at": row.detected_at.isoformat(),
        "recorded_at": row.recorded_at.isoformat(),
        "notice_due": row.notice_due.isoformat(),
        "overdue": is_overdue(row, today),
        "notice_sent_at": row.notice_sent_at.isoformat() if row.notice_sent_at else None,
        "subjects": row.subjects,
    }


def today_in_almaty() -> date:
    return workdays.filing_day(datetime.now(workdays.ALMATY))


async def _check_customers(conn: DbConn, customer_ids: Sequence[UUID]) -> list[UUID]:
    """The ids without repeats; ``UnknownCustomers`` when some are no customer's."""
    wanted = list(dict.fromkeys(customer_ids))
    unknown = len(wanted) - len(await storage.known_customers(conn, wanted)) if wanted else 0
    if unknown:
        raise UnknownCustomers(unknown)
    return wanted


async def record_breach(
    conn: DbConn,
    *,
    description: str,
    measures: str,
    detected_at: datetime,
    customer_ids: Sequence[UUID],
    officer: UUID,
) -> storage.BreachRow:
    """Record a breach and whom it touched; its notice is due 1 working day from detection."""
    wanted = await _check_customers(conn, customer_ids)
    breach_id = uuid4()
    await storage.insert_breach(
        conn,
        breach_id,
        description=description,
        measures=measures,
        detected_at=detected_at,
        notice_due=notice_due(detected_at),
        recorded_by=officer,
        customer_ids=wanted,
    )
    return await _existing(conn, breach_id)


async def _existing(conn: DbConn, breach_id: UUID, *, lock: bool = False) -> storage.BreachRow:
    row = await storage.get_breach(conn, breach_id, lock=lock)
    if row is None:
        raise BreachNotFound
    return row


def encode_cursor(row: storage.BreachRow) -> str:
    sent = "1" if row.notice_sent_at is not None else "0"
    return paging.encode_cursor(sent, row.notice_due.isoformat(), str(row.id))


def decode_cursor(text: str) -> tuple[bool, date, UUID]:
    sent, due, breach_id = paging.decode_cursor(text, 3)
    if sent not in ("0", "1"):
        raise BadCursor()
    try:
        return sent == "1", date.fromisoformat(due), UUID(breach_id)
    except ValueError:
        raise BadCursor() from None


async def page_of_breaches(conn: DbConn, limit: int, cursor: str | None) -> BreachPage:
    """The register as the desk reads it: unsent notices first (overdue ones at the top, as
    theirs are the earliest due dates), then the sent ones."""
    after = decode_cursor(cursor) if cursor else None
    rows = await storage.page_of_breaches(conn, limit + 1, after)
    today = today_in_almaty()
    more = len(rows) > limit
    rows = rows[:limit]
    return BreachPage(
        [breach_item(row, today) for row in rows],
        encode_cursor(rows[-1]) if more else None,
    )


async def one_breach(conn: DbConn, breach_id: UUID) -> dict[str, Any]:
    return breach_item(await _existing(conn, breach_id), today_in_almaty())


async def amend_breach(
    conn: DbConn,
    breach_id: UUID,
    *,
    measures: str | None,
    add_customer_ids: Sequence[UUID],
) -> dict[str, Any]:
    """What the officer learns later: the measures as they now stand, more subjects touched
    (released, as the others, at the notice's next draft). The clock does not move."""
    await _existing(conn, breach_id, lock=True)
    await storage.add_subjects(conn, breach_id, await _check_customers(conn, add_customer_ids))
    if measures is not None:
        await storage.set_measures(conn, breach_id, measures)
    return breach_item(await _existing(conn, breach_id), today_in_almaty())


async def mark_notice_sent(conn: DbConn, breach_id: UUID, officer: UUID) -> dict[str, Any]:
    """The notice went to the authorised body; refused when it was marked sent already."""
    row = await _existing(conn, breach_id, lock=True)
    if row.notice_sent_at is not None:
        raise NoticeAlreadySent
    await storage.mark_notice_sent(conn, breach_id, officer)
    return breach_item(await _existing(conn, breach_id), today_in_almaty())


async def notice_draft(
    conn: DbConn,
    gate: PdGate,
    breach_id: UUID,
    *,
    operator: Operator,
    responsible: Responsible,
    officer: UUID,
) -> dict[str, Any]:
    """The notice to the authorised body, ready to send: who the operator is, whom to ask,
    what happened and when it was detected, the measures, and the affected subjects' name
    and mobile number (released for legal_request, in each one's disclosure register).

    A subject whose data is erased has nothing to release; a blocked one's data is not
    processed while the block lasts: both are counted under ``withheld``, not listed."""
    row = await _existing(conn, breach_id)
    actor = f"staff:{officer}"
    subjects: list[dict[str, Any]] = []
    withheld = {"erased": 0, "blocked": 0}
    for subject in await storage.breach_subjects(conn, breach_id):
        try:
            subjects.append(await _subject_fields(conn, gate, breach_id, subject, actor))
        except CustomerUnavailable:
            withheld["erased"] += 1
        except CustomerBlocked:
            withheld["blocked"] += 1
    return {
        "breach_id": str(row.id),
        "recipient": NOTICE_RECIPIENT,
        "legal_basis": NOTICE_BASIS,
        "operator": {"name": operator.name, "bin": operator.bin},
        "responsible_person": {"name": responsible.name, "contact": responsible.contact},
        "what_happened": row.description,
        "detected_at": row.detected_at.isoformat(),
        "measures": row.measures,
        "notice_due": row.notice_due.isoformat(),
        "overdue": is_overdue(row, today_in_almaty()),
        "notice_sent_at": row.notice_sent_at.isoformat() if row.notice_sent_at else None,
        "subjects": subjects,
        "withheld": withheld,
    }


async def _subject_fields(
    conn: DbConn, gate: PdGate, breach_id: UUID, subject: Any, actor: str
) -> dict[str, Any]:
    """One subject's name and mobile number: released once, read again (audited) after."""
    customer_id: UUID = subject["customer_id"]
    if subject["release_id"] is None:
        release = await gate.release(
            conn,
            customer_id,
            purpose="legal_request",
            kind="authority",
            recipient=NOTICE_RECIPIENT,
            actor=actor,
            requested=BREACH_NOTICE_FIELDS,
            basis=NOTICE_BASIS,
        )
        await storage.set_subject_release(conn, breach_id, customer_id, release.release_id)
        return release.fields
    customer = await storage.get_customer(conn, customer_id)
    if customer is not None and customer.status == "blocked":
        raise CustomerBlocked("processing is blocked")
    pd = await gate.read_pd(
        conn, customer_id, "legal_request", actor, source_fields(BREACH_NOTICE_FIELDS)
    )
    return project(BREACH_NOTICE_FIELDS, pd)
