"""PostgreSQL access of the customers service: plain SQL, functions taking a connection.

Only ciphertexts, blind indexes, ids and hashes pass through here; the vault and ``pd.py``
turn them into personal data in memory.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
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
    sha256_kk: str = ""


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
    """The latest version in effect (latest effective date, then latest published)."""
    row = await conn.fetchrow(
        "SELECT version, effective_date, sha256, text_ru, text_kk, sha256_kk FROM policy_versions"
        " WHERE effective_date <= current_date"
        " ORDER BY effective_date DESC, published_at DESC LIMIT 1"
    )
    if row is None:
        raise LookupError("no policy version is in effect")
    return Policy(**dict(row))


async def latest_effective_date(conn: DbConn) -> date | None:
    value: date | None = await conn.fetchval("SELECT max(effective_date) FROM policy_versions")
    return value


async def insert_policy(conn: DbConn, policy: Policy, published_by: UUID) -> None:
    """Append a version; a version string already published is a Conflict."""
    try:
        await conn.execute(
            "INSERT INTO policy_versions (version, effective_date, sha256, text_ru, text_kk,"
            " sha256_kk, published_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            policy.version,
            policy.effective_date,
            policy.sha256,
            policy.text_ru,
            policy.text_kk,
            policy.sha256_kk,
            published_by,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict from None


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
    master_fingerprint: bytes | None = None,
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
        "INSERT INTO customer_keys (customer_id, wrapped_key, key_version) VALUES ($1, $2,"
        " coalesce((SELECT version FROM master_keys WHERE fingerprint = $3), 1))",
        customer_id,
        wrapped_key,
        master_fingerprint,
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
    policy_version: str | None = None,
) -> None:
    try:
        await conn.execute(
            "UPDATE customers SET locale = coalesce($2, locale),"
            " email_index = coalesce($3, email_index), phone_index = coalesce($4, phone_index),"
            " password_hash = coalesce($5, password_hash),"
            " policy_version = coalesce($6, policy_version), updated_at = now() WHERE id = $1",
            customer_id,
            locale,
            email_index,
            phone_index,
            password_hash,
            policy_version,
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


# --- Cancelled orders ------------------------------------------------------------------------


async def remember_cancelled_order(conn: DbConn, order_id: UUID) -> None:
    await conn.execute(
        "INSERT INTO cancelled_orders (order_id) VALUES ($1) ON CONFLICT DO NOTHING", order_id
    )


async def order_cancelled(conn: DbConn, order_id: UUID) -> bool:
    found = await conn.fetchval("SELECT true FROM cancelled_orders WHERE order_id = $1", order_id)
    return bool(found)


# --- Audit log (hash chain) ----------------------------------------------------------------


_AUDIT_COLUMNS = ["at", "actor", "action", "customer_id", "purpose", "fields"]


def _audit_record(entry: AuditEntry) -> tuple[object, ...]:
    return (
        entry.at,
        entry.actor,
        entry.action,
        entry.customer_id,
        entry.purpose,
        list(entry.fields),
    )


async def append_audit(conn: DbConn, entry: AuditEntry) -> None:
    """Record one use of PD in the caller's transaction; the chainer seals it later."""
    await conn.execute(
        "INSERT INTO audit_pending (at, actor, action, customer_id, purpose, fields)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        *_audit_record(entry),
    )


async def append_audit_many(conn: DbConn, entries: Sequence[AuditEntry]) -> None:
    """Record a batch of uses of PD with one COPY (inside the caller's transaction)."""
    if entries:
        await conn.copy_records_to_table(
            "audit_pending",
            records=[_audit_record(entry) for entry in entries],
            columns=_AUDIT_COLUMNS,
        )


async def chain_pending_audit(conn: DbConn, limit: int = 5_000) -> int:
    """Move up to ``limit`` pending rows, oldest first, onto the hash chain; return how many.

    Runs in its own transaction; the advisory lock keeps concurrent chainers (several
    replicas) in one order.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
        pending = await conn.fetch(
            "DELETE FROM audit_pending WHERE id IN"
            " (SELECT id FROM audit_pending ORDER BY id LIMIT $1)"
            " RETURNING id, at, actor, action, customer_id, purpose, fields",
            limit,
        )
        if not pending:
            return 0
        previous: bytes | None = await conn.fetchval(
            "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"
        )
        prev = previous or GENESIS
        records = []
        for row in sorted(pending, key=lambda r: r["id"]):
            entry = AuditEntry(
                row["at"],
                row["actor"],
                row["action"],
                row["customer_id"],
                row["purpose"],
                tuple(row["fields"]),
            )
            digest = audit_hash(prev, entry)
            records.append((*_audit_record(entry), prev, digest))
            prev = digest
        await conn.copy_records_to_table(
            "audit_log", records=records, columns=[*_AUDIT_COLUMNS, "prev_hash", "hash"]
        )
        return len(records)


async def first_broken_audit_row(conn: DbConn) -> tuple[int, int | None]:
    """Walk the chain: (rows checked, id of the first row whose link or hash is wrong)."""
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
                return count, int(row["id"])
            prev = row["hash"]
            count += 1
    return count, None


async def seal_all_pending_audit(conn: DbConn) -> None:
    while await chain_pending_audit(conn):
        pass


async def verify_audit_chain(conn: DbConn) -> int:
    """Seal what is pending, check every link of the chain; return the number of rows or
    raise ValueError."""
    await seal_all_pending_audit(conn)
    count, broken = await first_broken_audit_row(conn)
    if broken is not None:
        raise ValueError(f"audit chain broken at row {broken}")
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


async def update_staff_hash(conn: DbConn, staff_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE staff SET password_hash = $2 WHERE id = $1", staff_id, password_hash)


# --- Sign-in throttling --------------------------------------------------------------------

ThrottleKey = tuple[str, bytes]  # (scope, key): account blind index, network, password


async def locked_until(conn: DbConn, keys: Sequence[ThrottleKey]) -> datetime | None:
    """The latest lock still running on any of the keys, or None."""
    value: datetime | None = await conn.fetchval(
        "SELECT max(locked_until) FROM login_throttle"
        " WHERE (scope, key) IN (SELECT * FROM unnest($1::text[], $2::bytea[]))"
        " AND locked_until > now()",
        [scope for scope, _ in keys],
        [key for _, key in keys],
    )
    return value


async def record_failure(
    conn: DbConn, key: ThrottleKey, *, max_failures: int, window_s: int, lockout_s: int
) -> None:
    """Count a failure in the window; reaching the limit locks the key for ``lockout_s``."""
    window = timedelta(seconds=window_s)
    failures: int = await conn.fetchval(
        "INSERT INTO login_throttle AS t (scope, key, failures, window_start)"
        " VALUES ($1, $2, 1, now()) ON CONFLICT (scope, key) DO UPDATE SET"
        " failures = CASE WHEN t.window_start < now() - $3::interval THEN 1"
        " ELSE t.failures + 1 END,"
        " window_start = CASE WHEN t.window_start < now() - $3::interval THEN now()"
        " ELSE t.window_start END"
        " RETURNING failures",
        key[0],
        key[1],
        window,
    )
    if failures >= max_failures:
        await conn.execute(
            "UPDATE login_throttle SET locked_until = now() + $3::interval, failures = 0,"
            " window_start = now() WHERE scope = $1 AND key = $2",
            key[0],
            key[1],
            timedelta(seconds=lockout_s),
        )


async def clear_throttle(conn: DbConn, key: ThrottleKey) -> None:
    await conn.execute("DELETE FROM login_throttle WHERE scope = $1 AND key = $2", *key)


# --- Refresh sessions ----------------------------------------------------------------------


async def insert_session(
    conn: DbConn, token_hash: bytes, family_id: UUID, customer_id: UUID, ttl_s: int
) -> None:
    await conn.execute(
        "INSERT INTO refresh_sessions (token_hash, family_id, customer_id, expires_at)"
        " VALUES ($1, $2, $3, now() + $4::interval)",
        token_hash,
        family_id,
        customer_id,
        timedelta(seconds=ttl_s),
    )


async def lock_session(conn: DbConn, token_hash: bytes) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT family_id, customer_id, expires_at <= now() AS expired, rotated_at, revoked_at"
        " FROM refresh_sessions WHERE token_hash = $1 FOR UPDATE",
        token_hash,
    )
    return row


async def mark_rotated(conn: DbConn, token_hash: bytes) -> None:
    await conn.execute(
        "UPDATE refresh_sessions SET rotated_at = now() WHERE token_hash = $1", token_hash
    )


async def revoke_family(conn: DbConn, family_id: UUID) -> None:
    await conn.execute(
        "UPDATE refresh_sessions SET revoked_at = now() WHERE family_id = $1"
        " AND revoked_at IS NULL",
        family_id,
    )


async def revoke_customer_sessions(conn: DbConn, customer_id: UUID) -> int:
    """Revoke every refresh session of a customer (password change, erasure)."""
    result: str = await conn.execute(
        "UPDATE refresh_sessions SET revoked_at = now() WHERE customer_id = $1"
        " AND revoked_at IS NULL",
        customer_id,
    )
    return int(result.split()[-1])


# --- Master-key rotation -------------------------------------------------------------------


async def master_key_version(conn: DbConn, fingerprint: bytes) -> int | None:
    value: int | None = await conn.fetchval(
        "SELECT version FROM master_keys WHERE fingerprint = $1", fingerprint
    )
    return value


async def register_master_key(conn: DbConn, fingerprint: bytes, version: int | None) -> int:
    """Record a master key's fingerprint under ``version`` (or the next free one)."""
    await conn.execute("LOCK TABLE master_keys IN EXCLUSIVE MODE")
    known = await master_key_version(conn, fingerprint)
    if known is not None:
        return known
    chosen: int = version or await conn.fetchval(
        "SELECT coalesce(max(version), 0) + 1 FROM master_keys"
    )
    await conn.execute(
        "INSERT INTO master_keys (version, fingerprint) VALUES ($1, $2)", chosen, fingerprint
    )
    return chosen


async def keys_to_rewrap(
    conn: DbConn, version: int, after: UUID | None, limit: int
) -> list[asyncpg.Record]:
    """The next data keys (by customer id, after ``after``) not yet at ``version``."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT customer_id, wrapped_key FROM customer_keys WHERE key_version <> $1"
        " AND ($2::uuid IS NULL OR customer_id > $2) ORDER BY customer_id LIMIT $3"
        " FOR UPDATE",
        version,
        after,
        limit,
    )
    return rows


async def put_rewrapped(conn: DbConn, version: int, rows: Sequence[tuple[UUID, bytes]]) -> None:
    await conn.executemany(
        "UPDATE customer_keys SET wrapped_key = $2, key_version = $3 WHERE customer_id = $1",
        [(customer_id, wrapped, version) for customer_id, wrapped in rows],
    )


async def count_keys_not_at(conn: DbConn, version: int) -> int:
    value: int = await conn.fetchval(
        "SELECT count(*) FROM customer_keys WHERE key_version <> $1", version
    )
    return value


# --- Batch release of contacts (campaigns) -------------------------------------------------


async def contact_sources(
    conn: DbConn,
    customer_ids: Sequence[UUID],
    fields: Sequence[str],
    consent_kind: str | None,
    policy_version: str | None,
) -> list[asyncpg.Record]:
    """One query: active customers of the list with their wrapped key and the sealed fields;
    with ``consent_kind``, only those whose latest consent of that kind is granted; with
    ``policy_version``, only those who accepted it."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "SELECT c.id, c.locale, c.policy_version, k.wrapped_key,"
        " array_agg(p.field ORDER BY p.field) AS fields,"
        " array_agg(p.ciphertext ORDER BY p.field) AS sealed"
        " FROM customers c"
        " JOIN customer_keys k ON k.customer_id = c.id"
        " JOIN customer_pd p ON p.customer_id = c.id AND p.field = ANY($2::text[])"
        " WHERE c.id = ANY($1::uuid[]) AND c.status = 'active'"
        " AND ($4::text IS NULL OR c.policy_version = $4)"
        " AND ($3::text IS NULL OR (SELECT granted FROM consents s WHERE s.customer_id = c.id"
        "      AND s.kind = $3 ORDER BY s.id DESC LIMIT 1))"
        " GROUP BY c.id, c.locale, c.policy_version, k.wrapped_key",
        list(customer_ids),
        list(fields),
        consent_kind,
        policy_version,
    )
    return rows


async def add_disclosures_many(conn: DbConn, records: Sequence[tuple[Any, ...]]) -> None:
    """COPY rows of (release_id, customer_id, recipient, purpose, fields, order_ref,
    legal_basis) into the register."""
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
        ],
    )
