"""Consent records: append one, the live state, the history."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from shared.db import DbConn


async def add_consent(
    conn: DbConn,
    customer_id: UUID,
    kind: str,
    granted: bool,
    policy_version: str,
    record: dict[str, Any],
) -> None:
    await conn.execute(
        "INSERT INTO consents (customer_id, kind, granted, policy_version, record)"
        " VALUES ($1, $2, $3, $4, $5)",
        customer_id,
        kind,
        granted,
        policy_version,
        record,
    )


async def live_consents(conn: DbConn, customer_id: UUID) -> dict[str, bool]:
    """The latest state of each consent kind of a customer."""
    rows = await conn.fetch(
        "SELECT DISTINCT ON (kind) kind, granted FROM consents WHERE customer_id = $1"
        " ORDER BY kind, id DESC",
        customer_id,
    )
    return {row["kind"]: row["granted"] for row in rows}


async def consent_history(conn: DbConn, customer_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT kind, granted, policy_version, record, recorded_at FROM consents"
        " WHERE customer_id = $1 ORDER BY id",
        customer_id,
    )
    return [dict(row) for row in rows]


async def latest_record(conn: DbConn, customer_id: UUID, kind: str) -> dict[str, Any] | None:
    """The record of the customer's latest consent of ``kind`` (what they agreed to last)."""
    record: dict[str, Any] | None = await conn.fetchval(
        "SELECT record FROM consents WHERE customer_id = $1 AND kind = $2 ORDER BY id DESC LIMIT 1",
        customer_id,
        kind,
    )
    return record
