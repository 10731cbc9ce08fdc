"""Legal disclosures to state bodies (Law 94-V art. 9): the desk's record of each release."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import asyncpg

from shared.db import DbConn


@dataclass(frozen=True)
class LegalDisclosureRow:
    id: UUID
    release_id: UUID
    customer_id: UUID
    authority: str
    basis: str
    fields: list[str]
    confidential: bool
    confidentiality_ref: str | None
    disclosed_by: UUID
    at: datetime


_COLUMNS = (
    "id, release_id, customer_id, authority, basis, fields, confidential,"
    " confidentiality_ref, disclosed_by, at"
)


async def insert_legal_disclosure(
    conn: DbConn,
    disclosure_id: UUID,
    *,
    release_id: UUID,
    customer_id: UUID,
    authority: str,
    basis: str,
    fields: Iterable[str],
    confidential: bool,
    confidentiality_ref: str | None,
    disclosed_by: UUID,
) -> LegalDisclosureRow:
    record = await conn.fetchrow(
        "INSERT INTO legal_disclosures (id, release_id, customer_id, authority, basis, fields,"
        " confidential, confidentiality_ref, disclosed_by)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING *",
        disclosure_id,
        release_id,
        customer_id,
        authority,
        basis,
        sorted(fields),
        confidential,
        confidentiality_ref,
        disclosed_by,
    )
    assert record is not None
    return _row(record)


def _row(record: asyncpg.Record) -> LegalDisclosureRow:
    values = dict(record)
    values["fields"] = list(values["fields"])
    return LegalDisclosureRow(**values)


async def page_of_legal_disclosures(
    conn: DbConn,
    limit: int,
    after: tuple[datetime, UUID] | None,
    customer_id: UUID | None = None,
) -> list[LegalDisclosureRow]:
    """Newest first, keyset-paged on (at, id); one customer's only when one is given."""
    at, last_id = after if after else (None, None)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM legal_disclosures"  # noqa: S608 (fixed fragments only)
        " WHERE ($2::uuid IS NULL OR customer_id = $2)"
        " AND ($3::timestamptz IS NULL OR (at, id) < ($3, $4::uuid))"
        " ORDER BY at DESC, id DESC LIMIT $1",
        limit,
        customer_id,
        at,
        last_id,
    )
    return [_row(row) for row in rows]
