"""The ciphertexts: customers' wrapped data keys, their encrypted PD fields, and the
master-key versions a rotation re-wraps the data keys under."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from uuid import UUID

import asyncpg

from shared.db import DbConn

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
