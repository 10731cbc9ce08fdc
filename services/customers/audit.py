"""The audit hash chain's upkeep: the app's chainer sealing pending rows, the CLI's check.

Appends land pending (no lock on the hot path); the chainer seals them onto the chain a
batch at a time, so the chain's order is the chainer's, and a check first seals the rest.
"""

from __future__ import annotations

from dataclasses import dataclass

from shared.db import DbConn

from . import storage
from .background import chore_ctx

AUDIT_CHAIN_INTERVAL_S = 0.5


async def chain_pending(conn: DbConn) -> bool:
    """Seal a batch of pending rows onto the chain; True while more may be pending."""
    return await storage.chain_pending_audit(conn) > 0


audit_chainer_ctx = chore_ctx("audit-chainer", chain_pending, AUDIT_CHAIN_INTERVAL_S)


@dataclass(frozen=True)
class AuditCheck:
    rows: int
    first_bad_id: int | None


async def verify_audit(conn: DbConn) -> AuditCheck:
    """Seal what is pending, then walk the whole chain."""
    await storage.seal_all_pending_audit(conn)
    rows, bad = await storage.first_broken_audit_row(conn)
    return AuditCheck(rows, bad)
