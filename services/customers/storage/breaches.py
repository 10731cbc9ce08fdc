"""The breach register: breaches, whom each touched, the notice's clock and its sending."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from uuid import UUID

import asyncpg

from shared.db import DbConn


@dataclass(frozen=True)
class BreachRow:
    id: UUID
    description: str
    measures: str
    detected_at: datetime
    notice_due: date
    recorded_by: UUID
    recorded_at: datetime
    notice_sent_at: datetime | None
    notice_sent_by: UUID | None
    subjects: int


_COLUMNS = (
    "b.id, b.description, b.measures, b.detected_at, b.notice_due, b.recorded_by,"
    " b.recorded_at, b.notice_sent_at, b.notice_sent_by,"
    " (SELECT count(*) FROM breach_subjects s WHERE s.breach_id = b.id)::int AS subjects"
)


def _row(record: asyncpg.Record) -> BreachRow:
    return BreachRow(**dict(record))


async def known_customers(conn: DbConn, customer_ids: Sequence[UUID]) -> set[UUID]:
    rows = await conn.fetch("SELECT id FROM customers WHERE id = ANY($1::uuid[])", customer_ids)
    return {row["id"] for row in rows}


async def insert_breach(
    conn: DbConn,
    breach_id: UUID,
    *,
    description: str,
    measures: str,
    detected_at: datetime,
    notice_due: date,
    recorded_by: UUID,
    customer_ids: Sequence[UUID],
) -> None:
    await conn.execute(
        "INSERT INTO breaches (id, description, measures, detected_at, notice_due, recorded_by)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        breach_id,
        description,
        measures,
        detected_at,
        notice_due,
        recorded_by,
    )
    await conn.execute(
        "INSERT INTO breach_subjects (breach_id, customer_id)"
        " SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING",
        breach_id,
        list(customer_ids),
    )


async def get_breach(conn: DbConn, breach_id: UUID, *, lock: bool = False) -> BreachRow | None:
    query = f"SELECT {_COLUMNS} FROM breaches b WHERE b.id = $1"  # noqa: S608 (fixed fragments)
    record = await conn.fetchrow(query + (" FOR UPDATE OF b" if lock else ""), breach_id)
    return _row(record) if record else None


async def page_of_breaches(
    conn: DbConn, limit: int, after: tuple[bool, date, UUID] | None
) -> list[BreachRow]:
    """Notices not sent first (the overdue ones have the earliest due dates), then sent ones;
    keyset-paged on (sent, due, id)."""
    sent, due, last_id = after if after else (False, date.min, None)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM breaches b"  # noqa: S608 (fixed fragments only)
        " WHERE $4::uuid IS NULL OR ((b.notice_sent_at IS NOT NULL), b.notice_due, b.id)"
        " > ($1::boolean, $2::date, $4::uuid)"
        " ORDER BY (b.notice_sent_at IS NOT NULL), b.notice_due, b.id LIMIT $3",
        sent,
        due,
        limit,
        last_id,
    )
    return [_row(row) for row in rows]


async def add_subjects(conn: DbConn, breach_id: UUID, customer_ids: Sequence[UUID]) -> None:
    await conn.execute(
        "INSERT INTO breach_subjects (breach_id, customer_id)"
        " SELECT $1, unnest($2::uuid[]) ON CONFLICT DO NOTHING",
        breach_id,
        list(customer_ids),
    )


async def set_measures(conn: DbConn, breach_id: UUID, measures: str) -> None:
    await conn.execute("UPDATE breaches SET measures = $2 WHERE id = $1", breach_id, measures)


async def mark_notice_sent(conn: DbConn, breach_id: UUID, by: UUID) -> None:
    await conn.execute(
        "UPDATE breaches SET notice_sent_at = now(), notice_sent_by = $2 WHERE id = $1",
        breach_id,
        by,
    )


async def breach_subjects(conn: DbConn, breach_id: UUID) -> list[asyncpg.Record]:
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT customer_id, release_id FROM breach_subjects WHERE breach_id = $1"
        " ORDER BY customer_id",
        breach_id,
    )
    return rows


async def set_subject_release(
    conn: DbConn, breach_id: UUID, customer_id: UUID, release_id: UUID
) -> None:
    await conn.execute(
        "UPDATE breach_subjects SET release_id = $3 WHERE breach_id = $1 AND customer_id = $2",
        breach_id,
        customer_id,
        release_id,
    )
