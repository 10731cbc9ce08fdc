"""PostgreSQL access of the customers service: plain SQL, functions taking a connection.

Only ciphertexts, blind indexes, ids and hashes pass through here; the vault and ``pd.py``
turn them into personal data in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from uuid import UUID

import asyncpg

from shared.db import DbConn

from .domain import GENESIS, AuditEntry, audit_hash

AUDIT_LOCK = 7_404_310_1  # serialises appends to the audit hash chain


class Conflict(Exception):
    """An email or phone is already taken (the caller does not say which)."""


@dataclass(frozen=True)
class Policy:
    version: str
    effective_date: date
    sha256: str
    text_ru: str
    text_kk: str


@dataclass(frozen=True)
class CustomerRow:
    id: UUID
    status: str
    locale: str
    password_hash: str | None
    policy_version: str
    created_at: datetime


# --- Policy --------------------------------------------------------------------------------


async def current_policy(conn: DbConn) -> Policy:
    row = await conn.fetchrow(
        "SELECT version, effective_date, sha256, text_ru, text_kk FROM policy_versions"
        " WHERE effective_date <= current_date ORDER BY effective_date DESC LIMIT 1"
    )
    if row is None:
        raise LookupError("no policy version is in effect")
    return Policy(**dict(row))


# --- Customers -----------------------------------------------------------------------------


async def insert_customer(
    conn: DbConn,
    customer_id: UUID,
    *,
    locale: str,
    password_hash: str,
    email_index: bytes,
    phone_index: bytes,
    policy_version: str,
    wrapped_key: bytes,
) -> None:
    try:
        await conn.execute(
            "INSERT INTO customers (id, locale, password_hash, email_index, phone_index,"
            " policy_version) VALUES ($1, $2, $3, $4, $5, $6)",
            customer_id,
            locale,
            password_hash,
            email_index,
            phone_index,
            policy_version,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict from None
    await conn.execute(
        "INSERT INTO customer_keys (customer_id, wrapped_key) VALUES ($1, $2)",
        customer_id,
        wrapped_key,
    )


async def get_customer(conn: DbConn, customer_id: UUID) -> CustomerRow | None:
    row = await conn.fetchrow(
        "SELECT id, status, locale, password_hash, policy_version, created_at FROM customers"
        " WHERE id = $1",
        customer_id,
    )
    return CustomerRow(**dict(row)) if row else None


_LOGIN_QUERIES = {
    "email_index": "SELECT id, status, locale, password_hash, policy_version, created_at"
    " FROM customers WHERE email_index = $1 AND status <> 'erased'",
    "phone_index": "SELECT id, status, locale, password_hash, policy_version, created_at"
    " FROM customers WHERE phone_index = $1 AND status <> 'erased'",
}


async def find_login(conn: DbConn, column: str, index: bytes) -> CustomerRow | None:
    row = await conn.fetchrow(_LOGIN_QUERIES[column], index)
    return CustomerRow(**dict(row)) if row else None


async def update_customer(
    conn: DbConn,
    customer_id: UUID,
    *,
    locale: str | None = None,
    email_index: bytes | None = None,
    phone_index: bytes | None = None,
    password_hash: str | None = None,
) -> None:
    try:
        await conn.execute(
            "UPDATE customers SET locale = coalesce($2, locale),"
            " email_index = coalesce($3, email_index), phone_index = coalesce($4, phone_index),"
            " password_hash = coalesce($5, password_hash), updated_at = now() WHERE id = $1",
            customer_id,
            locale,
            email_index,
            phone_index,
            password_hash,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict from None


# --- Keys and encrypted fields -------------------------------------------------------------


async def wrapped_key(conn: DbConn, customer_id: UUID) -> bytes | None:
    value: bytes | None = await conn.fetchval(
        "SELECT wrapped_key FROM customer_keys WHERE customer_id = $1", customer_id
    )
    return value


async def delete_key(conn: DbConn, customer_id: UUID) -> None:
    """Crypto-shredding: without the data key no field of this customer opens again."""
    await conn.execute("DELETE FROM customer_keys WHERE customer_id = $1", customer_id)


async def put_fields(conn: DbConn, customer_id: UUID, sealed: Mapping[str, bytes]) -> None:
    await conn.executemany(
        "INSERT INTO customer_pd (customer_id, field, ciphertext) VALUES ($1, $2, $3)"
        " ON CONFLICT (customer_id, field)"
        " DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = now()",
        [(customer_id, field, value) for field, value in sealed.items()],
    )


async def delete_fields(conn: DbConn, customer_id: UUID, fields: Iterable[str]) -> None:
    await conn.execute(
        "DELETE FROM customer_pd WHERE customer_id = $1 AND field = ANY($2::text[])",
        customer_id,
        list(fields),
    )


async def get_fields(conn: DbConn, customer_id: UUID, fields: Iterable[str]) -> dict[str, bytes]:
    rows = await conn.fetch(
        "SELECT field, ciphertext FROM customer_pd WHERE customer_id = $1"
        " AND field = ANY($2::text[])",
        customer_id,
        list(fields),
    )
    return {row["field"]: row["ciphertext"] for row in rows}


# --- Consents ------------------------------------------------------------------------------


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
) -> None:
    await conn.execute(
        "INSERT INTO disclosures (release_id, customer_id, recipient, purpose, fields,"
        " order_ref, legal_basis) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        release_id,
        customer_id,
        recipient,
        purpose,
        sorted(fields),
        order_ref,
        legal_basis,
    )


async def disclosures(conn: DbConn, customer_id: UUID) -> list[dict[str, Any]]:
    rows = await conn.fetch(
        "SELECT release_id, recipient, purpose, fields, at, order_ref, legal_basis"
        " FROM disclosures WHERE customer_id = $1 ORDER BY at DESC, release_id",
        customer_id,
    )
    return [dict(row) for row in rows]


# --- Audit log (hash chain) ----------------------------------------------------------------


async def append_audit(conn: DbConn, entry: AuditEntry) -> None:
    """Append one row chained to the previous; call inside the caller's transaction."""
    await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
    previous: bytes | None = await conn.fetchval(
        "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"
    )
    prev = previous or GENESIS
    await conn.execute(
        "INSERT INTO audit_log (at, actor, action, customer_id, purpose, fields, prev_hash, hash)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        entry.at,
        entry.actor,
        entry.action,
        entry.customer_id,
        entry.purpose,
        list(entry.fields),
        prev,
        audit_hash(prev, entry),
    )


async def verify_audit_chain(conn: DbConn) -> int:
    """Check every link of the chain; return the number of rows or raise ValueError."""
    prev = GENESIS
    count = 0
    async with conn.transaction():
        async for row in conn.cursor("SELECT * FROM audit_log ORDER BY id"):
            entry = AuditEntry(
                at=row["at"],
                actor=row["actor"],
                action=row["action"],
                customer_id=row["customer_id"],
                purpose=row["purpose"],
                fields=tuple(row["fields"]),
            )
            if row["prev_hash"] != prev or row["hash"] != audit_hash(prev, entry):
                raise ValueError(f"audit chain broken at row {row['id']}")
            prev = row["hash"]
            count += 1
    return count


# --- Staff ---------------------------------------------------------------------------------


async def insert_staff(
    conn: DbConn, staff_id: UUID, email_index: bytes, password_hash: str, roles: list[str]
) -> None:
    try:
        await conn.execute(
            "INSERT INTO staff (id, email_index, password_hash, roles) VALUES ($1, $2, $3, $4)",
            staff_id,
            email_index,
            password_hash,
            sorted(set(roles)),
        )
    except asyncpg.UniqueViolationError:
        raise Conflict from None


async def find_staff(conn: DbConn, email_index: bytes) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, password_hash, roles FROM staff WHERE email_index = $1 AND active",
        email_index,
    )
    return row
