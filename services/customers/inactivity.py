"""Inactive accounts (Law 94-V art. 12(2), 18: kept only while the purpose lasts): a notice
first, then erasure.

An account nobody signed in to or refreshed for ``inactive_account_days`` is told by mail
(``CustomerInactivityNotice`` through the outbox; notifications sends it) that it will be
erased after ``inactivity_notice_days``; signing in before then keeps it
(``storage.mark_active`` lapses the notice). An account still unused when that period ends
is erased by the erasure use case, as the customer's own ``DELETE /me`` would (without the
password): the account closes and its sessions end, then it is shredded, or deferred while
an order is in delivery or a refund open (Law 94-V art. 8(2)), and completes when orders and
notifications confirm. The request in the register says ``filed_by='retention:inactive_account'``.
Blocked accounts are left alone: blocking stops processing at the customer's request.

Both steps are retention sweeps (``shared.retention.Sweep``) and leave run records with
counts only.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta

import asyncpg
from aiohttp import web

from shared import revocations
from shared.contracts import CustomerInactivityNotice
from shared.db import PG_POOL
from shared.messaging import enqueue
from shared.retention import Action, Sweep
from shared.revocations import REVOCATIONS
from shared.workdays import filing_day

from . import erasure, storage
from .keys import SETTINGS
from .personal_data import now

BATCH = 200
FILED_BY = "retention:inactive_account"


async def _in_batches(batch: Callable[[], Awaitable[int]]) -> int:
    """Run ``batch`` (one transaction of at most BATCH accounts, how many it handled) until
    a short one says none are left; how many in all."""
    total = 0
    while True:
        handled = await batch()
        total += handled
        if handled < BATCH:
            return total


async def send_notices(pool: asyncpg.Pool, inactive_since: datetime, grace: timedelta) -> int:
    """Tell every account unused since ``inactive_since``; return how many were told."""
    erase_after = filing_day(now() + grace)

    async def batch() -> int:
        async with pool.acquire() as conn, conn.transaction():
            ids = await storage.claim_for_notice(conn, inactive_since, BATCH)
            for customer_id in ids:
                await enqueue(
                    conn,
                    CustomerInactivityNotice(customer_id=customer_id, erase_after=erase_after),
                )
        return len(ids)

    return await _in_batches(batch)


async def start_erasures(app: web.Application, noticed_before: datetime) -> int:
    """Erase every account told before ``noticed_before`` and unused since; how many."""

    async def batch() -> int:
        async with app[PG_POOL].acquire() as conn:
            async with conn.transaction():
                ids = await storage.noticed_before(conn, noticed_before, BATCH)
                closed = [
                    await erasure.close_account(conn, app, customer_id, filed_by=FILED_BY)
                    for customer_id in ids
                ]
            for request_id, revoked in closed:
                app[REVOCATIONS].add(revocations.from_event(revoked))
                await erasure.advance(app, conn, request_id)  # shred, or defer on open orders
        return len(ids)

    return await _in_batches(batch)


def sweeps(app: web.Application) -> list[Sweep]:
    grace = timedelta(days=app[SETTINGS].inactivity_notice_days)

    async def notices(pool: asyncpg.Pool, cutoff: datetime) -> int:
        return await send_notices(pool, cutoff, grace)

    async def erasures(_pool: asyncpg.Pool, cutoff: datetime) -> int:
        return await start_erasures(app, cutoff)

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
