"""The register of data-subject requests: plain rows, the detail only as a ciphertext."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from uuid import UUID

import asyncpg

from shared.db import DbConn

_COLUMNS = (
    "id, customer_id, kind, status, filed_at, due, filed_by, detail, reason, resolution,"
    " resolved_by, resolved_at, updated_at"
)


async def insert_request(
    conn: DbConn,
    *,
    request_id: UUID,
    customer_id: UUID,
    kind: str,
    status: str,
    filed_at: datetime,
    due: date,
    filed_by: str,
    detail: bytes | None,
    reason: str | None,
    resolved: bool,
) -> asyncpg.Record:
    row: asyncpg.Record | None = await conn.fetchrow(
        "INSERT INTO subject_requests (id, customer_id, kind, status, filed_at, due, filed_by,"  # noqa: S608 (fixed columns)
        " detail, reason, resolved_by, resolved_at)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
        f" RETURNING {_COLUMNS}",
        request_id,
        customer_id,
        kind,
        status,
        filed_at,
        due,
        filed_by,
        detail,
        reason,
        filed_by if resolved else None,
        filed_at if resolved else None,
    )
    assert row is not None  # INSERT ... RETURNING always returns the row
    return row


async def update_request(
    conn: DbConn,
    request_id: UUID,
    *,
    status: str,
    by: str,
    reason: str | None,
    resolution: str | None,
    closes: bool,
) -> asyncpg.Record | None:
    """Move a request on; a closing status stamps who resolved it and when."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "UPDATE subject_requests SET status = $2, reason = coalesce($4, reason),"  # noqa: S608 (fixed columns)
        " resolution = coalesce($5, resolution), updated_at = now(),"
        " resolved_by = CASE WHEN $6 THEN $3 ELSE resolved_by END,"
        " resolved_at = CASE WHEN $6 THEN now() ELSE resolved_at END"
        f" WHERE id = $1 RETURNING {_COLUMNS}",
        request_id,
        status,
        by,
        reason,
        resolution,
        closes,
    )
    return row


async def get_request(conn: DbConn, request_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM subject_requests WHERE id = $1",  # noqa: S608 (fixed columns)
        request_id,
    )
    return row


async def customer_requests(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {_COLUMNS} FROM subject_requests WHERE customer_id = $1"  # noqa: S608 (fixed columns)
        " ORDER BY filed_at DESC, id",
        customer_id,
    )
    return rows


async def open_requests(conn: DbConn, limit: int = 500) -> list[asyncpg.Record]:
    """Requests not yet answered, the earliest due first (so the overdue ones lead)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {_COLUMNS} FROM subject_requests"  # noqa: S608 (fixed columns)
        " WHERE status NOT IN ('completed', 'refused') ORDER BY due, filed_at, id LIMIT $1",
        limit,
    )
    return rows


async def desk_requests(
    conn: DbConn,
    *,
    statuses: Sequence[str],
    kind: str | None,
    limit: int,
    after: tuple[bool, date, UUID] | None,
) -> list[asyncpg.Record]:
    """The privacy officer's queue: open requests before answered ones, each by due date (so
    the overdue lead), keyset-paged on (answered, due, id); filtered by status and kind."""
    closed, due, last_id = after if after else (False, date.min, None)
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {_COLUMNS} FROM subject_requests"  # noqa: S608 (fixed columns)
        " WHERE status = ANY($1::text[]) AND ($2::text IS NULL OR kind = $2)"
        " AND ($5::uuid IS NULL OR (status IN ('completed', 'refused'), due, id)"
        "      > ($3::boolean, $4::date, $5::uuid))"
        " ORDER BY status IN ('completed', 'refused'), due, id LIMIT $6",
        list(statuses),
        kind,
        closed,
        due,
        last_id,
        limit,
    )
    return rows


async def lock_request(conn: DbConn, request_id: UUID) -> asyncpg.Record | None:
    """The request, locked until the caller's transaction ends (one answer at a time)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM subject_requests WHERE id = $1 FOR UPDATE",  # noqa: S608 (fixed columns)
        request_id,
    )
    return row
