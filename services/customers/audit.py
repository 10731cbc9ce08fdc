"""The audit hash chain's upkeep: the app's chainer sealing pending rows, the CLI's check.

Appends land pending (no lock on the hot path); the chainer seals them onto the chain a
batch at a time, so the chain's order is the chainer's, and a check first seals the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass

import asyncpg
from aiohttp import web

from shared.db import PG_POOL, DbConn
from shared.logging import get_logger

from . import storage

AUDIT_CHAIN_INTERVAL_S = 0.5
log = get_logger("customers.audit")


async def audit_chainer_ctx(app: web.Application) -> AsyncIterator[None]:
    """Seal pending audit rows onto the hash chain, a batch at a time, for the app's life."""

    async def chain_forever() -> None:
        while True:
            try:
                async with app[PG_POOL].acquire() as conn:
                    chained = await storage.chain_pending_audit(conn)
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("audit chainer failed", error=type(exc).__name__)
                chained = 0
            if chained == 0:
                await asyncio.sleep(AUDIT_CHAIN_INTERVAL_S)

    task = asyncio.create_task(chain_forever(), name="audit-chainer")
    yield
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task


@dataclass(frozen=True)
class AuditCheck:
    rows: int
    first_bad_id: int | None


async def verify_audit(conn: DbConn) -> AuditCheck:
    """Seal what is pending, then walk the whole chain."""
    await storage.seal_all_pending_audit(conn)
    rows, bad = await storage.first_broken_audit_row(conn)
    return AuditCheck(rows, bad)
