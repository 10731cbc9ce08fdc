"""Marketing audiences: who may get a campaign or a notice on a channel, page by page in
keyset order, and the contacts suppressed after a provider refused them for good."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from uuid import UUID

import asyncpg

from shared.db import DbConn

# Below every customer id: the first page's lower bound, so the keyset condition stays an
# index condition (``id > $n``) on the first page as on the others.
BEFORE_EVERYONE = UUID(int=0)


@dataclass(frozen=True)
class Audience:
    """Who may get it: the contact field the customer must have, and the conditions that a
    marketing release adds (None / False: no condition)."""

    contact_field: str
    consent_kind: str | None = None  # latest consent of this kind granted
    policy_version: str | None = None  # this policy version accepted
    abroad: bool = False  # the latest consent to transfers abroad granted
    suppressed_channel: str | None = None  # not suppressed on this channel

    def args(self) -> tuple[Any, ...]:
        return (
            self.contact_field,
            self.consent_kind,
            self.policy_version,
            self.abroad,
            self.suppressed_channel,
        )


# The conditions on ``customers c`` besides the contact, over the parameters $2..$5 of
# ``Audience.args`` ($1 is the contact field, checked by each query its own way).
_CONDITIONS = (
    "c.status = 'active'"
    " AND ($3::text IS NULL OR c.policy_version = $3)"
    " AND ($2::text IS NULL OR coalesce((SELECT s.granted FROM consents s"
    "      WHERE s.customer_id = c.id AND s.kind = $2 ORDER BY s.id DESC LIMIT 1), false))"
    " AND (NOT $4 OR coalesce((SELECT s.granted FROM consents s"
    "      WHERE s.customer_id = c.id AND s.kind = 'cross_border' ORDER BY s.id DESC LIMIT 1),"
    "      false))"
    " AND ($5::text IS NULL OR NOT EXISTS (SELECT 1 FROM contact_suppressions x"
    "      WHERE x.customer_id = c.id AND x.channel = $5))"
)

# Walks the primary key from ``after`` ($6) and stops at ``limit`` ($7): each customer's sealed
# fields ($8) are an index lookup (LATERAL), so a page costs the same wherever it starts.
_PAGE = (
    "SELECT c.id, c.locale, c.policy_version, pd.fields, pd.sealed"  # noqa: S608 (fixed)
    " FROM customers c CROSS JOIN LATERAL"
    " (SELECT array_agg(p.field ORDER BY p.field) AS fields,"
    "         array_agg(p.ciphertext ORDER BY p.field) AS sealed"
    "  FROM customer_pd p WHERE p.customer_id = c.id AND p.field = ANY($8::text[])) pd"
    f" WHERE c.id > $6 AND $1::text = ANY(pd.fields) AND {_CONDITIONS}"
    " ORDER BY c.id LIMIT $7"
)


async def audience_size(conn: DbConn, audience: Audience) -> int:
    count: int = await conn.fetchval(
        "SELECT count(*) FROM customers c WHERE EXISTS (SELECT 1 FROM customer_pd q"  # noqa: S608
        f" WHERE q.customer_id = c.id AND q.field = $1) AND {_CONDITIONS}",
        *audience.args(),
    )
    return count


async def audience_page(
    conn: DbConn, audience: Audience, after: UUID | None, limit: int, fields: Sequence[str]
) -> list[asyncpg.Record]:
    """One query: the next ``limit`` eligible customers after ``after`` (by id) with their
    sealed ``fields`` (the keys are in the key store)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        _PAGE, *audience.args(), after or BEFORE_EVERYONE, limit, list(fields)
    )
    return rows


# --- Suppressed contacts -------------------------------------------------------------------


async def suppress_contact(
    conn: DbConn, customer_id: UUID, channel: str, reason: str, at: datetime
) -> bool:
    """Suppress a channel of a customer not erased; False if unknown, erased or already."""
    done = await conn.fetchval(
        "INSERT INTO contact_suppressions (customer_id, channel, reason, suppressed_at)"
        " SELECT id, $2, $3, $4 FROM customers WHERE id = $1 AND status <> 'erased'"
        " ON CONFLICT DO NOTHING RETURNING true",
        customer_id,
        channel,
        reason,
        at,
    )
    return bool(done)


async def clear_changed_contacts(
    conn: DbConn, customer_id: UUID, email_index: bytes | None, phone_index: bytes | None
) -> int:
    """Lift the suppression of each contact about to change (a new blind index given that
    differs from the stored one); call before the customer's row is updated."""
    result: str = await conn.execute(
        "DELETE FROM contact_suppressions x USING customers c"
        " WHERE x.customer_id = $1 AND c.id = x.customer_id"
        " AND ((x.channel = 'email' AND $2::bytea IS NOT NULL"
        "       AND c.email_index IS DISTINCT FROM $2)"
        "   OR (x.channel = 'sms' AND $3::bytea IS NOT NULL"
        "       AND c.phone_index IS DISTINCT FROM $3))",
        customer_id,
        email_index,
        phone_index,
    )
    return int(result.split()[-1])


async def suppressions_of(conn: DbConn, customer_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT channel, reason, suppressed_at FROM contact_suppressions"
        " WHERE customer_id = $1 ORDER BY channel",
        customer_id,
    )
    return [dict(row) for row in rows]


async def delete_suppressions(conn: DbConn, customer_id: UUID) -> int:
    result: str = await conn.execute(
        "DELETE FROM contact_suppressions WHERE customer_id = $1", customer_id
    )
    return int(result.split()[-1])


async def lock_customer_status(conn: DbConn, customer_id: UUID) -> tuple[str, str] | None:
    """Lock the customer's row for a consent change: (status, policy version), or None."""
    row = await conn.fetchrow(
        "SELECT status, policy_version FROM customers WHERE id = $1 FOR UPDATE", customer_id
    )
    return (row["status"], row["policy_version"]) if row else None
