"""What the export reads that no other use case does: sessions, the audit trail, the staff
roles behind it, the account pages' earlier requests. One query each, whatever the volume."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from uuid import UUID

import asyncpg

from shared.db import DbConn


async def refresh_session_families(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    """One row per sign-in (a refresh token family): when it began, was last refreshed,
    expires or expired, was ended, and whether it is still live. Token hashes stay here."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT min(created_at) AS started_at, max(created_at) AS last_refresh_at,"
        " max(expires_at) AS expires_at, max(revoked_at) AS ended_at,"
        " bool_or(rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now()) AS live"
        " FROM refresh_sessions WHERE customer_id = $1 GROUP BY family_id ORDER BY 1",
        customer_id,
    )
    return rows


async def web_sessions_of(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT created_at AS started_at, last_seen_at, expires_at, expires_at > now() AS live"
        " FROM web_sessions WHERE customer_id = $1 ORDER BY created_at",
        customer_id,
    )
    return rows


async def audit_trail(
    conn: DbConn, customer_id: UUID, leave_out: Sequence[str] = ()
) -> list[asyncpg.Record]:
    """Every use of the customer's data, sealed on the chain or still pending, oldest first,
    but the actions in ``leave_out`` (a read the law forbids telling the subject of).

    Read in one snapshot with the rest of the export: the chainer moves a row from pending
    to the log in one transaction, so each row is seen exactly once."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT at, actor, action, purpose, fields FROM ("
        " SELECT id, at, actor, action, purpose, fields, 0 AS pending FROM audit_log"
        "  WHERE customer_id = $1"
        " UNION ALL"
        " SELECT id, at, actor, action, purpose, fields, 1 AS pending FROM audit_pending"
        "  WHERE customer_id = $1) AS trail WHERE action <> ALL($2::text[])"
        " ORDER BY at, pending, id",
        customer_id,
        list(leave_out),
    )
    return rows


async def staff_roles(conn: DbConn, staff_ids: Collection[UUID]) -> dict[UUID, list[str]]:
    if not staff_ids:
        return {}
    rows = await conn.fetch(
        "SELECT id, roles FROM staff WHERE id = ANY($1::uuid[])", list(staff_ids)
    )
    return {row["id"]: sorted(row["roles"]) for row in rows}


async def page_requests_not_in_register(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    """The account pages' block and erase requests that the register of requests
    (``subject_requests``) does not carry under the same id."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT w.id, w.kind, w.status, w.requested_at FROM web_account_requests w"
        " WHERE w.customer_id = $1"
        " AND NOT EXISTS (SELECT 1 FROM subject_requests s WHERE s.id = w.id)"
        " ORDER BY w.requested_at DESC, w.id",
        customer_id,
    )
    return rows
