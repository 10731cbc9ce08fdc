"""The customers service's periodic database chores, each a task for the app's life.

A chore runs on a pooled connection: again at once while it reports more work, else after
its interval. A database that is away is logged by the error's kind and tried again; the
task ends with the app.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import asyncpg
from aiohttp import web

from shared.background import CleanupCtx, task_ctx
from shared.db import PG_POOL, DbConn
from shared.logging import get_logger

Chore = Callable[[DbConn], Awaitable[bool]]  # True: more to do right away
log = get_logger("customers.background")


def chore_ctx(name: str, chore: Chore, interval_s: float) -> CleanupCtx:
    """A cleanup_ctx running ``chore`` repeatedly while the app lives."""

    async def forever(app: web.Application) -> None:
        while True:
            more = False
            try:
                async with app[PG_POOL].acquire() as conn:
                    more = await chore(conn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("chore failed", chore=name, error=type(exc).__name__)
            if not more:
                await asyncio.sleep(interval_s)

    return task_ctx(name, forever)
