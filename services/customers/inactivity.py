"""Inactive accounts (Law 94-V art. 12(2), 18: kept only while the purpose lasts): a notice
first, then erasure.

An account nobody signed in to or refreshed for ``inactive_account_days`` is told by mail
(``CustomerInactivityNotice`` through the outbox; notifications sends it) that it will be
erased after ``inactivity_notice_days``; signing in before then keeps it
(``storage.mark_active`` lapses the notice). An account still unused when that period ends
gets an erasure request filed by retention (``filed_by='retention'``, reason
``inactive_account``), the same request the customer's own ``DELETE /me`` files, which the
erasure carries out on its clock (1 working day) with its deferral on open orders. Blocked
accounts are left alone: blocking stops processing at the customer's request.

Both steps are retention sweeps (``shared.retention.Sweep``) and leave run records with
counts only.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import asyncpg

from shared.contracts import CustomerInactivityNotice
from shared.messaging import enqueue
from shared.retention import Action, Sweep
from shared.workdays import filing_day

from . import storage, subject_requests
from .config import Settings
from .personal_data import PdGate, now

BATCH = 200
FILED_BY = "retention"
REASON = "inactive_account"


async def send_notices(pool: asyncpg.Pool, inactive_since: datetime, grace: timedelta) -> int:
    """Tell every account unused since ``inactive_since``; return how many were told."""
    erase_after = filing_day(now() + grace)
    told = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            ids = await storage.claim_for_notice(conn, inactive_since, BATCH)
            for customer_id in ids:
                await enqueue(
                    conn,
                    CustomerInactivityNotice(customer_id=customer_id, erase_after=erase_after),
                )
        told += len(ids)
        if len(ids) < BATCH:
            return told


async def start_erasures(pool: asyncpg.Pool, gate: PdGate, noticed_before: datetime) -> int:
    """File the erasure of every account told before ``noticed_before`` and unused since."""
    filed = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            ids = await storage.noticed_before(conn, noticed_before, BATCH)
            for customer_id in ids:
                await subject_requests.file(
                    conn, gate, customer_id, "erase", filed_by=FILED_BY, reason=REASON
                )
        filed += len(ids)
        if len(ids) < BATCH:
            return filed


def sweeps(settings: Settings, gate: PdGate) -> list[Sweep]:
    grace = timedelta(days=settings.inactivity_notice_days)

    async def notices(pool: asyncpg.Pool, cutoff: datetime) -> int:
        return await send_notices(pool, cutoff, grace)

    async def erasures(pool: asyncpg.Pool, cutoff: datetime) -> int:
        return await start_erasures(pool, gate, cutoff)

    return [
        Sweep(
            kind="inactivity_notices",
            period="inactive_account_days",
            action=Action.NOTICE,
            run=notices,
            why="an account unused this long has no purpose left; its owner is told first",
            holding="account",
        ),
        Sweep(
            kind="inactive_accounts",
            period="inactivity_notice_days",
            action=Action.ERASE,
            run=erasures,
            why="told and still unused when the notice's period ends: erased",
            holding="account",
        ),
    ]
