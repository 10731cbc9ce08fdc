"""Legal disclosures to state bodies without the subject's consent (Law 94-V art. 9).

The privacy officer states the authority, the art. 9 ground and the fields; the fields are
released for purpose ``legal_request`` to that authority (the release table's ``authority``
row), the release is recorded in the disclosure register with that ground, the read is in
the audit log, and the officer receives the values to hand over. The customer sees the
disclosure in their register, unless a law forbids telling them (a pre-trial investigation,
say): then it is ``confidential`` and the officer must name that law
(``confidentiality_ref``); the register row exists all the same.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

from shared import paging
from shared.db import DbConn
from shared.paging import BadCursor

from . import storage
from .personal_data import CONFIDENTIAL_READ, PdGate


@dataclass(frozen=True)
class Disclosed:
    row: storage.LegalDisclosureRow
    values: dict[str, Any]


@dataclass(frozen=True)
class LegalPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def register_basis(basis: str) -> str:
    """The legal basis the disclosure register shows: art. 9 and the officer's ground."""
    return f"Law 94-V art. 9: {basis}"


def legal_item(row: storage.LegalDisclosureRow) -> dict[str, Any]:
    return {
        "id": str(row.id),
        "release_id": str(row.release_id),
        "customer_id": str(row.customer_id),
        "authority": row.authority,
        "basis": row.basis,
        "fields": row.fields,
        "confidential": row.confidential,
        "confidentiality_ref": row.confidentiality_ref,
        "disclosed_by": str(row.disclosed_by),
        "at": row.at.isoformat(),
    }


async def disclose(
    conn: DbConn,
    gate: PdGate,
    *,
    customer_id: UUID,
    authority: str,
    basis: str,
    fields: Iterable[str],
    confidential: bool,
    confidentiality_ref: str | None,
    officer: UUID,
) -> Disclosed:
    """Release ``fields`` of a customer to ``authority`` on an art. 9 ground, recorded."""
    wanted = frozenset(fields)
    release = await gate.release(
        conn,
        customer_id,
        purpose="legal_request",
        kind="authority",
        recipient=f"authority:{authority}",
        actor=f"staff:{officer}",
        requested=wanted,
        basis=register_basis(basis),
        audit_action=CONFIDENTIAL_READ if confidential else "read",
    )
    row = await storage.insert_legal_disclosure(
        conn,
        uuid4(),
        release_id=release.release_id,
        customer_id=customer_id,
        authority=authority,
        basis=basis,
        fields=wanted,
        confidential=confidential,
        confidentiality_ref=confidentiality_ref if confidential else None,
        disclosed_by=officer,
    )
    return Disclosed(row, {field: release.fields[field] for field in sorted(wanted)})


def encode_cursor(row: storage.LegalDisclosureRow) -> str:
    return paging.encode_cursor(row.at.isoformat(), str(row.id))


def decode_cursor(text: str) -> tuple[datetime, UUID]:
    at, disclosure_id = paging.decode_cursor(text, 2)
    try:
        moment, last_id = datetime.fromisoformat(at), UUID(disclosure_id)
    except ValueError:
        raise BadCursor() from None
    if moment.tzinfo is None:
        raise BadCursor()
    return moment, last_id


async def page_of_disclosures(
    conn: DbConn, limit: int, cursor: str | None, customer_id: UUID | None
) -> LegalPage:
    """The desk's list of legal disclosures (field names, never values), newest first."""
    after = decode_cursor(cursor) if cursor else None
    rows = await storage.page_of_legal_disclosures(conn, limit + 1, after, customer_id)
    more = len(rows) > limit
    rows = rows[:limit]
    return LegalPage([legal_item(row) for row in rows], encode_cursor(rows[-1]) if more else None)
