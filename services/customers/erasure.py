"""Erasure, the use case: ``DELETE /api/customers/me`` and the account pages' delete.

1. **Close** (the request's transaction, after the password is confirmed): the request is
   filed in the register (kind ``erase``, 1 working day), the account stops signing in
   (status 'erased', password hash and blind indexes removed) and every session ends at
   once (refresh sessions deleted, account-page sessions, access tokens everywhere:
   ``access.end_all_sessions``).
2. **Ask orders** what is still open (``obligations``): an order in delivery or an open
   refund defers the erasure (Law 94-V art. 8(2)): the data needed to finish it stays, only
   for delivery and service messages (``personal_data.CLOSED_ACCOUNT_PURPOSES``). Orders
   not answering defers it with reason ``checking``. A chore asks again at
   ``next_check_at``; order events bring that forward (``messages``).
3. **Confirm, then shred** once nothing is open: the confirmation mail is handed to
   notifications with the address while it still exists (``erasure_notice``, best effort);
   then, in one transaction: the data key destroyed in the key
   store (``PdGate.shred``, the one way to shred), the sealed fields and request details
   deleted, an audit row,
   and ``CustomerErased`` to the other services.
4. **Complete** when every service of ``rights.CONFIRMING_SERVICES`` has confirmed that it
   removed the id (``OrdersDepersonalised``, ``NotificationsDepersonalised``; which and when
   are recorded in ``erasure_confirmations``).

What stays, as evidence the law asks for, keyed by the id that now leads to no personal
data: the consent records, the disclosure register, the audit log and the request itself
(``data_map.py``). ``CLOSE_STEPS`` and ``SHRED_STEPS`` are one step per table of the data
map that erasure changes; a test walks the map so a new holding without a step fails.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from aiohttp import web

from shared import revocations
from shared.contracts import AccessRevoked, CustomerErased
from shared.db import PG_POOL, DbConn
from shared.logging import get_logger
from shared.messaging import enqueue
from shared.revocations import REVOCATIONS

from . import access, storage, subject_requests
from .domain import PD_FIELDS, AuditEntry
from .erasure_notice import confirm_erasure
from .keys import ACCOUNTS, SETTINGS
from .obligations import open_obligations
from .personal_data import CustomerUnavailable, PdGate, now
from .rights import COMPLETES_WHEN, CONFIRMING_SERVICES, DEFERRAL_TEXT, deferral_for

log = get_logger("customers.erasure")
SYSTEM = "system:erasure"
Step = Callable[[DbConn, UUID], Awaitable[int]]
CONFIRMATION_POLL_S = 0.05


async def _close(conn: DbConn, customer_id: UUID) -> int:
    if not await storage.close_customer(conn, customer_id):
        raise CustomerUnavailable("already erased")
    return 1


# At the request: the account closes (the customers row keeps the id and 'erased').
CLOSE_STEPS: tuple[tuple[str, Step], ...] = (
    ("customers", _close),
    ("refresh_sessions", storage.delete_refresh_sessions),
    ("web_sessions", storage.delete_web_sessions),
    ("contact_suppressions", storage.delete_suppressions),
)


# Once nothing is open: the personal data goes. First ``PdGate.shred``, the one place a data
# key is destroyed: the key in the key store (a database of its own, so no backup of the
# customers database brings it back) and the sealed fields here; then these steps.
SHREDDED_BY_THE_GATE = ("customer_keys", "customer_pd")
SHRED_STEPS: tuple[tuple[str, Step], ...] = (
    ("subject_requests", storage.forget_request_details),
    ("login_backoff", storage.forget_password_failures),
)


@dataclass(frozen=True)
class Answer:
    """What the customer is told (the API's 202 body, the page's text)."""

    request_id: UUID
    status: str  # the register's: in_progress (shredded, confirmations due), deferred, completed
    due: date
    reason: str | None = None
    open_orders: tuple[str, ...] = ()
    confirmed: tuple[str, ...] = ()

    def body(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "request_id": str(self.request_id),
            "status": self.status,
            "due": self.due.isoformat(),
            "confirmations": {
                service: service in self.confirmed for service in CONFIRMING_SERVICES
            },
        }
        reason = next((r for r in DEFERRAL_TEXT if r == self.reason), None)
        if self.status == "deferred" and reason is not None:
            out["reason"] = reason
            out["reason_text"] = DEFERRAL_TEXT[reason]
            out["completes_when"] = COMPLETES_WHEN[reason]
            out["open_orders"] = list(self.open_orders)
        return out


async def answer_for(conn: DbConn, request_id: UUID) -> Answer:
    request = await subject_requests.get(conn, request_id)
    erasure = await storage.get_erasure(conn, request_id)
    assert erasure is not None
    return Answer(
        request_id=request_id,
        status=request.status,
        due=request.due,
        reason=erasure.reason,
        open_orders=erasure.open_orders,
        confirmed=erasure.confirmed,
    )


# --- 1. Close -----------------------------------------------------------------------------


async def request_erasure(
    app: web.Application, customer_id: UUID, password: str, network: str
) -> Answer:
    """Confirm the password (``BadCredentials``, ``Throttled``), close the account, then
    shred or defer (``advance``)."""
    accounts = app[ACCOUNTS]
    async with app[PG_POOL].acquire() as conn:
        await accounts.confirm_password(conn, customer_id, password, network)
        async with conn.transaction():
            request_id, revoked = await close_account(conn, app, customer_id)
        app[REVOCATIONS].add(revocations.from_event(revoked))
        log.info("erasure requested", request_id=str(request_id))
        answer = await advance(app, conn, request_id)
    if answer.status == "in_progress":
        answer = await await_confirmations(app, request_id, app[SETTINGS].erasure_answer_wait_s)
    return answer


async def await_confirmations(app: web.Application, request_id: UUID, wait_s: float) -> Answer:
    """The answer once every service has confirmed, or as it stands after ``wait_s``.

    The confirmations normally arrive within a fraction of a second, so the customer is
    told ``completed`` in the same answer; a service that is slower (or down) leaves it
    ``in_progress``, and the request completes when its confirmation arrives. Each look
    borrows a connection only for its query, so waiting answers do not hold the pool."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    while True:
        async with app[PG_POOL].acquire() as conn:
            answer = await answer_for(conn, request_id)
        if answer.status != "in_progress" or loop.time() >= deadline:
            return answer
        await asyncio.sleep(CONFIRMATION_POLL_S)


async def close_account(
    conn: DbConn, app: web.Application, customer_id: UUID, *, filed_by: str | None = None
) -> tuple[UUID, AccessRevoked]:
    """File the request, close the account and end every session (in the caller's
    transaction); ``CustomerUnavailable`` when it is already erased. ``filed_by`` is the
    customer unless said (retention erasing an inactive account)."""
    accounts = app[ACCOUNTS]
    request = await subject_requests.file(
        conn,
        accounts.gate,
        customer_id,
        "erase",
        filed_by=filed_by or f"customer:{customer_id}",
        status="in_progress",
    )
    for _, step in CLOSE_STEPS:
        await step(conn, customer_id)
    revoked = await access.end_all_sessions(conn, customer_id, accounts.access_ttl_s)
    await storage.insert_erasure(conn, request.id, customer_id)
    return request.id, revoked


# --- 2. and 3. Ask orders, then shred or defer ----------------------------------------------


async def advance(app: web.Application, conn: DbConn, request_id: UUID) -> Answer:
    """Shred when nothing is open any more, else (re)defer with the reason; a request no
    longer deferred is only answered."""
    erasure = await storage.get_erasure(conn, request_id)
    if erasure is None or erasure.state != "deferred":
        return await answer_for(conn, request_id)
    found = await open_obligations(app, erasure.customer_id)  # outside the transaction
    deferral = deferral_for(found)
    if deferral is None:  # the last moment the address exists: the confirmation goes now
        await confirm_erasure(app, erasure.customer_id, request_id)
    async with conn.transaction():
        erasure = await storage.get_erasure(conn, request_id, lock=True)
        if erasure is None or erasure.state != "deferred":
            return await answer_for(conn, request_id)
        if deferral is not None:
            await storage.defer_erasure(
                conn,
                request_id,
                deferral.reason,
                deferral.order_refs,
                app[SETTINGS].erasure_recheck_s,
            )
            await subject_requests.set_status(
                conn,
                request_id,
                "deferred",
                by=SYSTEM,
                reason=deferral.reason,
                resolution=DEFERRAL_TEXT[deferral.reason],
            )
        else:
            await shred(
                conn,
                app[ACCOUNTS].gate,
                erasure.customer_id,
                request_id,
                app[SETTINGS].erasure_recheck_s,
            )
        answer = await answer_for(conn, request_id)
    log.info("erasure advanced", request_id=str(request_id), status=answer.status)
    return answer


async def shred(
    conn: DbConn, gate: PdGate, customer_id: UUID, request_id: UUID, resend_s: float
) -> None:
    """Destroy the personal data and tell the other services (in the caller's transaction;
    the data key is destroyed in the key store at once, whatever the transaction does)."""
    await gate.shred(conn, customer_id)
    for _, step in SHRED_STEPS:
        await step(conn, customer_id)
    at = now()
    await storage.append_audit(
        conn, AuditEntry(at, SYSTEM, "shred", customer_id, "identification", PD_FIELDS)
    )
    await storage.mark_shredded(conn, request_id, resend_s)
    await subject_requests.set_status(
        conn,
        request_id,
        "in_progress",
        by=SYSTEM,
        resolution="Your personal data is destroyed; the other services are removing your"
        " customer number from their records.",
    )
    await announce(conn, customer_id, request_id, at)


def chore_for(app: web.Application) -> Callable[[DbConn], Awaitable[bool]]:
    """The periodic round: deferred erasures whose check is due (or that an order event
    brought forward) are advanced, and a shredded one still missing a confirmation after
    ``ERASURE_RECHECK_S`` is announced again (a lost or parked message; the other services'
    handling is idempotent). True while a full batch was due."""
    batch = 20

    async def chore(conn: DbConn) -> bool:
        due = await storage.erasures_to_check(conn, batch)
        for request_id in due:
            await advance(app, conn, request_id)
        async with conn.transaction():
            resend = await storage.unconfirmed_to_resend(
                conn, batch, app[SETTINGS].erasure_recheck_s
            )
            for row in resend:
                await announce(conn, row["customer_id"], row["request_id"], row["shredded_at"])
        for row in resend:
            log.info("erasure announced again", request_id=str(row["request_id"]))
        return len(due) == batch or len(resend) == batch

    return chore


async def announce(conn: DbConn, customer_id: UUID, request_id: UUID, at: datetime) -> None:
    await enqueue(
        conn,
        CustomerErased(customer_id=customer_id, request_id=request_id, erased_at=at),
        correlation_id=str(request_id),
    )


# --- 4. Confirmations ----------------------------------------------------------------------


async def confirm(conn: DbConn, request_id: UUID, service: str, counts: dict[str, Any]) -> bool:
    """Record a service's confirmation; complete the request once all are in. True when
    this confirmation completed it. A repeated confirmation changes nothing."""
    if not await storage.record_confirmation(conn, request_id, service, counts):
        return False
    erasure = await storage.get_erasure(conn, request_id, lock=True)
    if erasure is None or set(CONFIRMING_SERVICES) - set(erasure.confirmed):
        return False
    if not await storage.mark_completed(conn, request_id):
        return False
    await subject_requests.set_status(
        conn,
        request_id,
        "completed",
        by=SYSTEM,
        resolution="Erased: your personal data is destroyed and no service links its records"
        f" to you any more (confirmed by {', '.join(CONFIRMING_SERVICES)}"
        f" on {datetime.now(UTC).date().isoformat()}).",
    )
    return True
