"""When a customer was last active, and retention's notice to an inactive one (0017)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.db import DbConn


async def mark_active(conn: DbConn, customer_id: UUID) -> None:
    """The customer signed in or refreshed a session: active now; a pending notice lapses.

    Within an hour of the last recorded activity nothing is written (a refresh comes every
    access-token lifetime; the inactivity periods are counted in months)."""
    await conn.execute(
        "UPDATE customers SET last_active_at = now(), inactivity_notice_at = NULL"
        " WHERE id = $1 AND (last_active_at < now() - interval '1 hour'"
        " OR inactivity_notice_at IS NOT NULL)",
        customer_id,
    )


async def claim_for_notice(conn: DbConn, inactive_since: datetime, limit: int) -> list[UUID]:
    """Active accounts nobody used since ``inactive_since`` and not told yet: marked told
    now (in the caller's transaction, with the notice's outbox row)."""
    rows = await conn.fetch(
        "UPDATE customers SET inactivity_notice_at = now() WHERE id IN ("
        " SELECT id FROM customers WHERE status = 'active' AND last_active_at < $1"
        " AND inactivity_notice_at IS NULL ORDER BY last_active_at LIMIT $2"
        " FOR UPDATE SKIP LOCKED) RETURNING id",
        inactive_since,
        limit,
    )
    return [row["id"] for row in rows]


async def noticed_before(conn: DbConn, noticed_before: datetime, limit: int) -> list[UUID]:
    """Accounts told before ``noticed_before`` and not used since, with no open erasure
    request yet: the ones whose erasure starts now (locked in the caller's transaction)."""
    rows = await conn.fetch(
        "SELECT c.id FROM customers c WHERE c.status = 'active'"
        " AND c.inactivity_notice_at < $1 AND c.last_active_at < c.inactivity_notice_at"
        " AND NOT EXISTS (SELECT 1 FROM subject_requests r WHERE r.customer_id = c.id"
        "  AND r.kind = 'erase' AND r.status NOT IN ('completed', 'refused'))"
        " ORDER BY c.inactivity_notice_at LIMIT $2 FOR UPDATE OF c SKIP LOCKED",
        noticed_before,
        limit,
    )
    return [row["id"] for row in rows]
