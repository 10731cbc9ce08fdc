"""The privacy officer's queue of data-subject requests and their reasoned answers.

The queue is the register of requests (``subject_requests``) as the desk reads it: open
requests first, each by its due date, so the overdue ones lead. The desk answers the kinds
that wait for a person: a withdrawal of consent (Law 94-V art. 8(7), 15 working days), an
objection to an automated decision (art. 19-1, 3), a rectification (art. 25(2)(8), 1) and a
notice of a transfer (art. 19(1), 10). Block, unblock and erase are carried out by their own
use cases, which close their requests themselves; access answers itself (the export).

An answer is ``completed`` or ``refused`` with the officer's words, which the customer reads
in ``GET /me/requests``; a refusal names its reason (a code: an open obligation of art. 8(2),
say). A withdrawal completed stops the processing: the processing consent and the marketing
consents are recorded as withdrawn (``consents``, the Art. 8(4) record's counterpart) and
the account is erased: closed in the answer's transaction (``erasure.close_account``: sign-in
and every session end at once, an ``erase`` request in the register), then shredded, or
deferred while an order is still owed (art. 8(2)), by ``erasure.advance`` after the commit
(``after_answer``; the running service's erasure chore does it for an answer from the command
line). Each function but ``after_answer`` runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID

from aiohttp import web

from shared import paging, revocations
from shared.contracts import AccessRevoked
from shared.db import DbConn
from shared.paging import BadCursor
from shared.revocations import REVOCATIONS

from . import blocking, erasure, storage, subject_requests
from .domain import AuditEntry
from .keys import ACCOUNTS
from .personal_data import CustomerUnavailable, PdGate, now
from .request_models import MarketingChoice
from .rights import CLOSED, Outcome, QueueStatus, RefusalReason, RequestKind, RequestStatus
from .subject_requests import RequestNotFound, SubjectRequest

# The kinds a person answers at the desk; the others close through their own use case.
DESK_KINDS: frozenset[RequestKind] = frozenset(
    {"withdraw_consent", "objection", "rectification", "transfer_notice"}
)
# Block and erase requests the account pages recorded before either was self-service (copied
# into the register by migration 0012, still ``received``): the desk carries them out.
RECORDED_BEFORE_SELF_SERVICE: frozenset[RequestKind] = frozenset({"block", "erase"})
OPEN: tuple[RequestStatus, ...] = ("received", "in_progress", "deferred")
ALL_STATUSES: tuple[RequestStatus, ...] = (*OPEN, "completed", "refused")


class NotForTheDesk(Exception):
    """The kind is carried out by its own use case (block, unblock, erase) or answers
    itself (access); the desk does not close it by hand."""


class AlreadyAnswered(Exception):
    """The request is completed or refused already."""


@dataclass(frozen=True)
class Answered:
    """The request as answered and, for a completed withdrawal, the erasure it started
    (its request id and the revocation of every session, for the replica that answered)."""

    request: SubjectRequest
    erasure_id: UUID | None = None
    revoked: AccessRevoked | None = None


@dataclass(frozen=True)
class QueuePage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def statuses_of(status: QueueStatus) -> tuple[RequestStatus, ...]:
    if status == "open":
        return OPEN
    if status == "all":
        return ALL_STATUSES
    return (status,)


def desk_item(request: SubjectRequest, detail: str | None = None) -> dict[str, Any]:
    """The desk's view: the customer's item plus whose request it is and who filed and
    answered it."""
    out = subject_requests.item(request, detail)
    out.update(customer_id=str(request.customer_id), filed_by=request.filed_by)
    if request.resolved_by is not None:
        out["resolved_by"] = request.resolved_by
    out["answered_at_desk"] = answerable_at_desk(request)
    return out


def encode_cursor(request: SubjectRequest) -> str:
    closed = "1" if request.status in CLOSED else "0"
    return paging.encode_cursor(closed, request.due.isoformat(), str(request.id))


def decode_cursor(text: str) -> tuple[bool, date, UUID]:
    closed, due, request_id = paging.decode_cursor(text, 3)
    if closed not in ("0", "1"):
        raise BadCursor()
    try:
        return closed == "1", date.fromisoformat(due), UUID(request_id)
    except ValueError:
        raise BadCursor() from None


async def queue(
    conn: DbConn,
    *,
    status: QueueStatus = "open",
    kind: RequestKind | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> QueuePage:
    """A page of the queue: open before answered, the earliest due first (the overdue)."""
    after = decode_cursor(cursor) if cursor else None
    rows = await storage.desk_requests(
        conn, statuses=statuses_of(status), kind=kind, limit=limit + 1, after=after
    )
    found = [subject_requests.from_row(row) for row in rows]
    more = len(found) > limit
    found = found[:limit]
    return QueuePage([desk_item(one) for one in found], encode_cursor(found[-1]) if more else None)


async def one_request(
    conn: DbConn, gate: PdGate, request_id: UUID, officer: UUID
) -> dict[str, Any]:
    """One request with the customer's own words, the read of which is audited."""
    request = await subject_requests.get(conn, request_id)
    detail = await subject_requests.detail_of(conn, gate, request)
    if detail is not None:
        await storage.append_audit(
            conn,
            AuditEntry(
                now(), f"staff:{officer}", "read", request.customer_id, "support",
                ("request_detail",),
            ),
        )  # fmt: skip
    return desk_item(request, detail)


async def resolve(
    conn: DbConn,
    app: web.Application,
    request_id: UUID,
    *,
    outcome: Outcome,
    answer: str,
    reason: RefusalReason | None,
    officer: UUID,
) -> Answered:
    """Answer a request on the desk; a completed withdrawal stops the processing."""
    if await storage.lock_request(conn, request_id) is None:
        raise RequestNotFound
    request = await subject_requests.get(conn, request_id)
    if not answerable_at_desk(request):
        raise NotForTheDesk
    if request.status in CLOSED:
        raise AlreadyAnswered
    erasure_id, revoked = None, None
    if outcome == "completed" and request.kind == "withdraw_consent":
        erasure_id, revoked = await stop_processing(conn, app, request)
    elif outcome == "completed" and request.kind == "erase":
        erasure_id, revoked = await _close_for_erasure(conn, app, request.customer_id)
    elif outcome == "completed" and request.kind == "block":
        await blocking.block(conn, app[ACCOUNTS].gate, request.customer_id, by=f"staff:{officer}")
    answered = await subject_requests.set_status(
        conn,
        request_id,
        outcome,
        by=f"staff:{officer}",
        reason=reason if outcome == "refused" else None,
        resolution=answer,
    )
    return Answered(answered, erasure_id, revoked)


async def stop_processing(
    conn: DbConn, app: web.Application, request: SubjectRequest
) -> tuple[UUID | None, AccessRevoked | None]:
    """The consent to processing is withdrawn (art. 8(7)): recorded next to the consent it
    ends, marketing withdrawn with it (``ConsentChanged`` to notifications), and the account
    closed for erasure. Nothing to stop for an account erased already."""
    customer = await storage.get_customer(conn, request.customer_id)
    if customer is None or customer.status == "erased":
        return None, None
    record = {
        "subject_id": str(request.customer_id),
        "purpose": "pd_processing",
        "granted": False,
        "withdrawn_by_request": str(request.id),
        "basis": "Law 94-V art. 8(7): withdrawal of consent",
        "at": now().isoformat(),
    }
    await storage.add_consent(
        conn, request.customer_id, "pd_processing", False, customer.policy_version, record
    )
    await app[ACCOUNTS].set_marketing(
        conn, request.customer_id, MarketingChoice(email=False, sms=False)
    )
    return await _close_for_erasure(conn, app, request.customer_id)


async def _close_for_erasure(
    conn: DbConn, app: web.Application, customer_id: UUID
) -> tuple[UUID | None, AccessRevoked | None]:
    try:
        return await erasure.close_account(conn, app, customer_id)
    except CustomerUnavailable:  # erased already: nothing left to do
        return None, None


def answerable_at_desk(request: SubjectRequest) -> bool:
    """The desk's kinds, and a page's block or erase request from before self-service."""
    return request.kind in DESK_KINDS or (
        request.kind in RECORDED_BEFORE_SELF_SERVICE and request.status == "received"
    )


async def after_answer(
    app: web.Application, conn: DbConn, answered: Answered
) -> dict[str, Any] | None:
    """Once the answer is committed: this replica refuses the closed account's tokens at
    once, and the erasure goes on (shredded now, or deferred with its reason). The erasure's
    answer, for the officer; None when the answer started none."""
    if answered.revoked is not None:
        app[REVOCATIONS].add(revocations.from_event(answered.revoked))
    if answered.erasure_id is None:
        return None
    return (await erasure.advance(app, conn, answered.erasure_id)).body()
