"""Blocking and unblocking, the use case (Law 94-V art. 1: a temporary stop of processing).

The customer does it themselves (``POST|DELETE /api/customers/me/block``, the account pages)
or a privacy officer does it for them (with a reason code). Either way, in one transaction:
the customer's row changes (status, since when, the state's version one higher), the change
goes out as ``CustomerBlocked`` / ``CustomerUnblocked`` through the outbox (orders and
notifications keep it and enforce it), and the request is filed in ``subject_requests``
already completed (self-service is done at once; the law's 1 working day is its ``due``).

What a block stops and what it leaves (``domain.placed_before_block``, ``PdGate.release``): no
release of the customer's data any more, except for an order placed before the block (its
delivery and status mail: an obligation already open); orders refuses a new checkout. What
is the subject's own, not the operator's processing, stays: seeing, exporting, editing their
data (policy 4.2.1: "at any time"; correcting data is often why one blocks), the requests,
unblocking and erasure. A block or unblock asked for when it is already in force changes
nothing and announces nothing, but is filed (completed) like any request.
"""

from __future__ import annotations

from typing import Protocol
from uuid import UUID

from shared.contracts import CustomerBlocked, CustomerUnblocked
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import enqueue

from . import storage, subject_requests
from .personal_data import CustomerUnavailable, PdGate, now
from .rights import RequestKind
from .subject_requests import SubjectRequest

log = get_logger("customers.blocking")


class Change(Protocol):
    """``block`` or ``unblock``."""

    async def __call__(
        self, conn: DbConn, gate: PdGate, customer_id: UUID, *, by: str,
        reason: str | None = None, note: str | None = None,
    ) -> SubjectRequest: ...  # fmt: skip


async def block(
    conn: DbConn, gate: PdGate, customer_id: UUID, *, by: str, reason: str | None = None,
    note: str | None = None,
) -> SubjectRequest:  # fmt: skip
    """Stop processing of the customer's data now; the completed ``block`` request."""
    return await _change(conn, gate, customer_id, True, by=by, reason=reason, note=note)


async def unblock(
    conn: DbConn, gate: PdGate, customer_id: UUID, *, by: str, reason: str | None = None,
    note: str | None = None,
) -> SubjectRequest:  # fmt: skip
    """Let processing go on again now; the completed ``unblock`` request."""
    return await _change(conn, gate, customer_id, False, by=by, reason=reason, note=note)


async def _change(
    conn: DbConn,
    gate: PdGate,
    customer_id: UUID,
    blocked: bool,
    *,
    by: str,
    reason: str | None,
    note: str | None,
) -> SubjectRequest:
    state = await storage.lock_block_state(conn, customer_id)
    if state is None or state.status == "erased":
        raise CustomerUnavailable("unknown or erased customer")
    kind: RequestKind = "block" if blocked else "unblock"
    filed = await subject_requests.file(
        conn, gate, customer_id, kind, filed_by=by, status="completed", reason=reason
    )
    if (state.status == "blocked") == blocked:
        resolution = _already(blocked)
    else:
        at = now()
        version = await storage.set_block_state(conn, customer_id, blocked, at)
        event = (CustomerBlocked if blocked else CustomerUnblocked)(
            customer_id=customer_id, version=version, at=at
        )
        await enqueue(conn, event, correlation_id=str(filed.id))
        resolution = _done(blocked, at.isoformat(timespec="seconds"))
        log.info(f"customer {kind}ed", customer_id=str(customer_id), version=version, by=by)
    if note:
        resolution = f"{resolution} Note: {note}"
    return await subject_requests.set_status(
        conn, filed.id, "completed", by=by, resolution=resolution
    )


def _done(blocked: bool, at: str) -> str:
    if blocked:
        return (
            f"Processing blocked at {at}: nothing is released and no new order is accepted;"
            " orders placed before it are still delivered (an open obligation)."
        )
    return f"Processing unblocked at {at}."


def _already(blocked: bool) -> str:
    return (
        "Processing was already blocked; nothing changed."
        if blocked
        else ("Processing was not blocked; nothing changed.")
    )
