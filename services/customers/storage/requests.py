"""The register of data-subject requests: plain rows, the detail only as a ciphertext."""

from __future__ import annotations

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
