"""PromotionStarted and PromotionEnded, each once per promotion, through the outbox.

A promotion's start is announced when it goes live (by the request that creates or edits it
live, else by the scheduler at ``starts_at``) and its end when it is over (by the request
that ends it early, else by the scheduler once ``ends_at`` has passed). Each announcement
sets its flag on the promotion's locked row in the transaction that writes the event, and
the scheduler takes rows with ``FOR UPDATE SKIP LOCKED`` by conditions the flags make false:
replicas side by side, a restart or a repeated round announce nothing twice. A promotion
that went live is always announced started before it is announced ended (one that was
cancelled before its start is never announced); after a scheduler outage the late ones go
out together, in that order.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID

import asyncpg

from services.catalog import promotion_storage
from services.catalog.config import Settings
from services.catalog.promotions import ended_event, started_event
from shared.background import CleanupCtx, task_ctx
from shared.db import PG_POOL, DbConn
from shared.logging import get_logger
from shared.messaging import enqueue

BATCH = 100
log = get_logger("catalog.promotion_events")


async def announce(conn: DbConn, promotion_id: UUID, now: datetime) -> None:
    """Write whatever is due for the promotion; the caller's transaction holds its row."""
    promotion = await promotion_storage.get(conn, promotion_id)
    if promotion is None:
        return
    started, ended = await promotion_storage.announced(conn, promotion_id)
    status = promotion.public_status(now)
    went_live = status in ("live", "ended") and promotion.status != "cancelled"
    if not started and went_live:
        await enqueue(conn, started_event(promotion), correlation_id=str(promotion_id))
        started = True
    over = status in ("ended", "cancelled")
    if started and over and not ended:
        await enqueue(conn, ended_event(promotion), correlation_id=str(promotion_id))
        ended = True
    await promotion_storage.mark_announced(conn, promotion_id, started=started, ended=ended)


Locker = Callable[[DbConn, datetime, int], Awaitable[list[UUID]]]


async def _announce_batches(pool: asyncpg.Pool, lock: Locker) -> int:
    done = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            now = datetime.now(UTC)
            ids = await lock(conn, now, BATCH)
            for promotion_id in ids:
                await announce(conn, promotion_id, now)
        done += len(ids)
        if len(ids) < BATCH:
            return done


async def announce_due(pool: asyncpg.Pool) -> int:
    """One round: every start, then every end that is due; how many promotions were seen."""
    started = await _announce_batches(pool, promotion_storage.lock_to_start)
    return started + await _announce_batches(pool, promotion_storage.lock_to_end)


async def _loop(pool: asyncpg.Pool, interval_s: float) -> None:
    while True:
        try:
            done = await announce_due(pool)
            if done:
                log.info("promotions announced", promotions=done)
        except (asyncpg.PostgresError, OSError) as exc:
            log.warning("promotion round failed", error=type(exc).__name__)
        await asyncio.sleep(interval_s)


def promotion_schedule_ctx(settings: Settings) -> CleanupCtx:
    return task_ctx(
        "catalog-promotions",
        lambda app: _loop(app[PG_POOL], settings.promotion_interval_s),
    )
