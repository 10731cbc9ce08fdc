"""Data-subject requests on the law's clocks: filing, moving on, reading them back.

Every right a customer exercises leaves a request here, with the day it is due (``rights``):
self-service ones (block, unblock, erase, access) are filed already completed or deferred by
the use case that carries them out; the others wait on the privacy officer's desk. The
customer's own words (``detail``) are personal data: sealed under their data key, so an
erasure shreds them with the rest. Each function runs in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from shared.db import DbConn
from shared.workdays import filing_day

from . import storage
from .personal_data import CustomerUnavailable, PdGate, now
from .rights import CLOSED, RequestKind, RequestStatus, is_overdue, request_due


class RequestNotFound(Exception):
    """No request with this id (or not one of this customer's)."""


@dataclass(frozen=True)
class SubjectRequest:
    id: UUID
    customer_id: UUID
    kind: RequestKind
    status: RequestStatus
    filed_at: datetime
    due: date
    filed_by: str
    reason: str | None
    resolution: str | None
    resolved_by: str | None
    resolved_at: datetime | None
    sealed_detail: bytes | None

    @property
    def overdue(self) -> bool:
        return is_overdue(self.due, self.status, filing_day(now()))


def _request(row: asyncpg.Record) -> SubjectRequest:
    return SubjectRequest(
        id=row["id"],
        customer_id=row["customer_id"],
        kind=row["kind"],
        status=row["status"],
        filed_at=row["filed_at"],
        due=row["due"],
        filed_by=row["filed_by"],
        reason=row["reason"],
        resolution=row["resolution"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        sealed_detail=row["detail"],
    )


def from_row(row: asyncpg.Record) -> SubjectRequest:
    """A request of a row of ``subject_requests`` (for the desk's own queries)."""
    return _request(row)


# Kinds a customer files that the service answers at once (nothing for the desk to do).
SELF_SERVICE_ANSWERS: dict[RequestKind, str] = {
    "access": "Everything held about you is in your export, at once:"
    " GET /api/customers/me/export, or the export page of your account.",
}


def _detail_label(request_id: UUID) -> str:
    return f"request:{request_id}"


async def file(
    conn: DbConn,
    gate: PdGate,
    customer_id: UUID,
    kind: RequestKind,
    *,
    filed_by: str,
    detail: str | None = None,
    status: RequestStatus = "received",
    reason: str | None = None,
    access_days: int = 10,
) -> SubjectRequest:
    """Record a request with its due date; a closing ``status`` records it as answered."""
    request_id = uuid4()
    filed_at = now()
    sealed = (
        await gate.seal_text(conn, customer_id, _detail_label(request_id), detail)
        if detail
        else None
    )
    row = await storage.insert_request(
        conn,
        request_id=request_id,
        customer_id=customer_id,
        kind=kind,
        status=status,
        filed_at=filed_at,
        due=request_due(kind, filed_at, access_days),
        filed_by=filed_by,
        detail=sealed,
        reason=reason,
        resolved=status in CLOSED,
    )
    return _request(row)


async def file_for_customer(
    conn: DbConn,
    gate: PdGate,
    customer_id: UUID,
    kind: RequestKind,
    detail: str | None,
    access_days: int,
) -> SubjectRequest:
    """A request the customer files themselves: answered at once where self-service answers
    it, otherwise received for the privacy officer's desk, on its clock."""
    customer = await storage.get_customer(conn, customer_id)
    if customer is None or customer.status == "erased":
        raise CustomerUnavailable("unknown or erased customer")
    request = await file(
        conn,
        gate,
        customer_id,
        kind,
        filed_by=f"customer:{customer_id}",
        detail=detail,
        status="completed" if kind in SELF_SERVICE_ANSWERS else "received",
        access_days=access_days,
    )
    if kind in SELF_SERVICE_ANSWERS:
        request = await set_status(
            conn,
            request.id,
            "completed",
            by="system:self-service",
            resolution=SELF_SERVICE_ANSWERS[kind],
        )
    return request


async def set_status(
    conn: DbConn,
    request_id: UUID,
    status: RequestStatus,
    *,
    by: str,
    reason: str | None = None,
    resolution: str | None = None,
) -> SubjectRequest:
    """Move a request on (deferred, completed, refused...); closing stamps who and when."""
    row = await storage.update_request(
        conn,
        request_id,
        status=status,
        by=by,
        reason=reason,
        resolution=resolution,
        closes=status in CLOSED,
    )
    if row is None:
        raise RequestNotFound
    return _request(row)


async def get(conn: DbConn, request_id: UUID) -> SubjectRequest:
    row = await storage.get_request(conn, request_id)
    if row is None:
        raise RequestNotFound
    return _request(row)


async def for_customer(conn: DbConn, customer_id: UUID) -> list[SubjectRequest]:
    return [_request(row) for row in await storage.customer_requests(conn, customer_id)]


async def open_queue(conn: DbConn, limit: int = 500) -> list[SubjectRequest]:
    """What the desk has to answer, the earliest due (so the overdue) first."""
    return [_request(row) for row in await storage.open_requests(conn, limit)]


async def detail_of(conn: DbConn, gate: PdGate, request: SubjectRequest) -> str | None:
    """The customer's words, or None (none given, or shredded with their data key)."""
    if request.sealed_detail is None:
        return None
    return await gate.open_text(
        conn, request.customer_id, _detail_label(request.id), request.sealed_detail
    )


async def details_of(
    conn: DbConn, gate: PdGate, requests: list[SubjectRequest]
) -> list[str | None]:
    """``detail_of`` of every request of one customer, the data key fetched once."""
    if not requests:
        return []
    opened = iter(
        await gate.open_texts(
            conn,
            requests[0].customer_id,
            [(_detail_label(r.id), r.sealed_detail) for r in requests if r.sealed_detail],
        )
    )
    return [next(opened) if r.sealed_detail else None for r in requests]


def item(request: SubjectRequest, detail: str | None = None) -> dict[str, Any]:
    """The API shape of a request (the customer's and the desk's)."""
    out: dict[str, Any] = {
        "id": str(request.id),
        "kind": request.kind,
        "status": request.status,
        "filed_at": request.filed_at.isoformat(),
        "due": request.due.isoformat(),
        "overdue": request.overdue,
    }
    optional = {
        "reason": request.reason,
        "resolution": request.resolution,
        "resolved_at": request.resolved_at.isoformat() if request.resolved_at else None,
        "detail": detail,
    }
    out.update({key: value for key, value in optional.items() if value is not None})
    return out
