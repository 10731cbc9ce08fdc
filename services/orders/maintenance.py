"""The app's periodic task: expire unpaid orders, raise unconfirmed dispatches.

What is kept only for a while (carts, velocity counters, statistics) is retention's
(``retention.py``), not this task's.

Every ``maintenance_interval_s`` one round runs each job in its own short transactions.
Rows are taken with ``FOR UPDATE SKIP LOCKED`` and chosen by conditions that the job itself
makes false, so several instances may run side by side and a repeated round does nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
from dataclasses import dataclass

import asyncpg

from shared.background import CleanupCtx, task_ctx
from shared.contracts import OrderNeedsAttention
from shared.db import PG_POOL
from shared.logging import get_logger
from shared.messaging import enqueue

from . import storage
from .config import Settings
from .domain import IllegalTransition, Status, Trigger
from .workflow import apply_trigger

BATCH = 100
log = get_logger("orders.maintenance")


@dataclass(frozen=True)
class Round:
    expired: int
    flagged: int


async def expire_unpaid(pool: asyncpg.Pool, settings: Settings) -> int:
    """Cancel orders whose payment window closed (stock returns on ``OrderCancelled``)."""
    done = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            order_ids = await storage.lock_expired_payment_orders(conn, BATCH)
            for order_id in order_ids:
                with contextlib.suppress(IllegalTransition):
                    await apply_trigger(conn, order_id, Trigger.PAYMENT_EXPIRED, settings)
        done += len(order_ids)
        if len(order_ids) < BATCH:
            return done


async def flag_unconfirmed(pool: asyncpg.Pool, settings: Settings) -> int:
    """Raise dispatched orders the courier has not confirmed in time, for support."""
    done = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            rows = await storage.flag_unconfirmed_dispatches(
                conn, settings.courier_confirm_timeout_s, BATCH
            )
            for row in rows:
                status = Status(row["status"])
                await storage.add_history(conn, row["id"], status, "needs_attention")
                await enqueue(
                    conn,
                    OrderNeedsAttention(
                        order_id=row["id"],
                        order_ref=row["order_ref"],
                        status=row["status"],
                        reason="courier_timeout",
                    ),
                    correlation_id=str(row["id"]),
                )
        done += len(rows)
        if len(rows) < BATCH:
            return done


async def run_once(pool: asyncpg.Pool, settings: Settings) -> Round:
    return Round(
        expired=await expire_unpaid(pool, settings),
        flagged=await flag_unconfirmed(pool, settings),
    )


async def _loop(pool: asyncpg.Pool, settings: Settings) -> None:
    while True:
        try:
            done = await run_once(pool, settings)
            if done.expired or done.flagged:
                log.info("maintenance round", expired=done.expired, flagged=done.flagged)
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("maintenance round failed", error=type(exc).__name__)
        await asyncio.sleep(settings.maintenance_interval_s)


def maintenance_ctx(settings: Settings) -> CleanupCtx:
    return task_ctx("orders-maintenance", lambda app: _loop(app[PG_POOL], settings))
