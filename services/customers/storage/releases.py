"""The disclosure register (every release of PD, single or in a campaign batch) and the
cancelled orders a later dispatch request must not release anything for."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any
from uuid import UUID

import asyncpg

from shared.db import DbConn

# --- Disclosures ---------------------------------------------------------------------------


async def add_disclosure(
    conn: DbConn,
    *,
    release_id: UUID,
    customer_id: UUID,
    recipient: str,
    purpose: str,
    fields: Iterable[str],
    order_ref: str | None,
    legal_basis: str,
    country: str = "KZ",
    reason: str | None = None,
) -> None:
    await conn.execute(
        "INSERT INTO disclosures (release_id, customer_id, recipient, purpose, fields,"
        " order_ref, legal_basis, country, reason) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
        release_id,
        customer_id,
        recipient,
        purpose,
        sorted(fields),
        order_ref,
        legal_basis,
        country,
        reason,
    )


async def disclosures(conn: DbConn, customer_id: UUID) -> list[dict[str, Any]]:
    """The customer's own view of the register: every release but a legal disclosure the law
    forbids telling them of (``legal_disclosures.confidential``)."""
    rows = await conn.fetch(
        "SELECT d.release_id, d.recipient, d.purpose, d.fields, d.at, d.order_ref,"
        " d.legal_basis, d.country, d.reason, d.reference"
        " FROM disclosures d WHERE d.customer_id = $1"
        " AND NOT EXISTS (SELECT 1 FROM legal_disclosures l"
        "                 WHERE l.release_id = d.release_id AND l.confidential)"
        " ORDER BY d.at DESC, d.release_id",
        customer_id,
    )
    return [dict(row) for row in rows]


# --- Batch release of contacts (campaigns) -------------------------------------------------


async def contact_sources(
    conn: DbConn,
    customer_ids: Sequence[UUID],
    fields: Sequence[str],
    consent_kind: str | None,
    policy_version: str | None,
    abroad: bool = False,
) -> list[asyncpg.Record]:
    """One query: active customers of the list with their sealed fields (their keys are in
    the key store); with ``consent_kind``, only those whose latest consent of that kind is
    granted; with ``policy_version``, only those who accepted it; ``abroad``: only those
    whose latest consent to transfers abroad is granted."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT c.id, c.locale, c.policy_version,"
        " array_agg(p.field ORDER BY p.field) AS fields,"
        " array_agg(p.ciphertext ORDER BY p.field) AS sealed"
        " FROM customers c"
        " JOIN customer_pd p ON p.customer_id = c.id AND p.field = ANY($2::text[])"
        " WHERE c.id = ANY($1::uuid[]) AND c.status = 'active'"
        " AND ($4::text IS NULL OR c.policy_version = $4)"
        " AND ($3::text IS NULL OR (SELECT granted FROM consents s WHERE s.customer_id = c.id"
        "      AND s.kind = $3 ORDER BY s.id DESC LIMIT 1))"
        " AND (NOT $5 OR coalesce((SELECT granted FROM consents s WHERE s.customer_id = c.id"
        "      AND s.kind = 'cross_border' ORDER BY s.id DESC LIMIT 1), false))"
        " GROUP BY c.id, c.locale, c.policy_version",
        list(customer_ids),
        list(fields),
        consent_kind,
        policy_version,
        abroad,
    )
    return rows


async def add_disclosures_many(conn: DbConn, records: Sequence[tuple[Any, ...]]) -> None:
    """COPY rows of (release_id, customer_id, recipient, purpose, fields, order_ref,
    legal_basis, country, reference) into the register."""
    await conn.copy_records_to_table(
        "disclosures",
        records=records,
        columns=[
            "release_id",
            "customer_id",
            "recipient",
            "purpose",
            "fields",
            "order_ref",
            "legal_basis",
            "country",
            "reference",
        ],
    )


# --- Notices of transfers the consent did not name (Law 94-V art. 19(1)) --------------------


async def claim_transfer_notice(
    conn: DbConn,
    *,
    customer_id: UUID,
    kind: str,
    recipient: str,
    country: str,
    request_id: UUID,
    release_id: UUID,
) -> bool:
    """Record that a notice is filed for this (customer, recipient); False if one was."""
    claimed = await conn.fetchval(
        "INSERT INTO transfer_notices (customer_id, recipient_kind, recipient, country,"
        " request_id, first_release_id) VALUES ($1, $2, $3, $4, $5, $6)"
        " ON CONFLICT DO NOTHING RETURNING true",
        customer_id,
        kind,
        recipient,
        country,
        request_id,
        release_id,
    )
    return bool(claimed)


async def transfer_notice_filed(conn: DbConn, customer_id: UUID, kind: str, recipient: str) -> bool:
    """Whether a notice is filed for this (customer, recipient). Takes a transaction lock on
    the pair first, so two releases at once file one notice."""
    await conn.execute(
        "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))",
        f"transfer_notice:{customer_id}:{kind}:{recipient}",
    )
    found = await conn.fetchval(
        "SELECT true FROM transfer_notices"
        " WHERE customer_id = $1 AND recipient_kind = $2 AND recipient = $3",
        customer_id,
        kind,
        recipient,
    )
    return bool(found)


# --- Cancelled orders ------------------------------------------------------------------------


async def remember_cancelled_order(conn: DbConn, order_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO cancelled_orders (order_id) VALUES ($1) ON CONFLICT DO NOTHING", order_id
    )


async def order_cancelled(conn: DbConn, order_id: UUID) -> bool:
    found = await conn.fetchval("SELECT true FROM cancelled_orders WHERE order_id = $1", order_id)
    return bool(found)
