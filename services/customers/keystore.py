"""The key store: every customer's wrapped data key, in a PostgreSQL database of its own.

Why a database of its own: crypto-shredding destroys a customer's data key, but a backup
of the database that held the key would bring it back. The customers database keeps only
ciphertext (``customer_pd``), so its backups may be kept long; the key store keeps only
keys, and its backups are kept briefly (``keystore_backup_retention_days``), so a shredded
customer survives in a backup at most that long (README, "Backups").

Registration writes the key here first and then the customer in the customers database: a
key whose customer never committed is an orphan, harmless (it opens nothing that exists)
and removed by ``purge_orphans`` once it is older than any registration could take.

``KeyStore`` is the typed API the service uses (its own pool, opened by ``keystore_ctx``);
the module-level functions taking a connection to the key store are what the master-key
rotation runs in its own transactions.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from uuid import UUID

import asyncpg
from aiohttp import web

from shared.background import CleanupCtx
from shared.db import DbConn, create_pool
from shared.logging import get_logger
from shared.migrations import ensure_database, migrate

from .background import chore_ctx

MIGRATIONS = Path(__file__).parent / "keystore_migrations"
NAMESPACE = "keystore"
log = get_logger("customers.keystore")


async def migrate_keystore(dsn: str) -> list[str]:
    """Create the key store's database if needed and apply its migrations (no outbox/inbox:
    the key store sends and receives nothing)."""
    await ensure_database(dsn)
    return await migrate(dsn, MIGRATIONS, NAMESPACE, with_shared=False)


class KeyStoreClosed(RuntimeError):
    """The key store's pool is not open (the app has not started, or has stopped)."""


Mark = tuple[datetime, UUID]  # (created_at, customer_id) of the last key a sweep looked at


@dataclass(frozen=True)
class OrphanPage:
    purged: int
    last: Mark | None  # where the next page starts
    full: bool  # True: more keys may follow right away


class KeyStore:
    """Put, get, get many and destroy data keys; one pool on the key store's database."""

    def __init__(self, dsn: str, pool_size: int = 5) -> None:
        self.dsn = dsn
        self.pool_size = pool_size
        self._pool: asyncpg.Pool | None = None

    async def open(self, *, max_size: int | None = None) -> None:
        """One primary-key lookup per read: a few connections serve the whole service."""
        size = max_size or self.pool_size
        self._pool = await create_pool(self.dsn, min_size=1, max_size=size)

    async def close(self) -> None:
        if self._pool is not None:
            await self._pool.close()
            self._pool = None

    @property
    def pool(self) -> asyncpg.Pool:
        if self._pool is None:
            raise KeyStoreClosed("the key store is not open")
        return self._pool

    async def put(self, customer_id: UUID, wrapped_key: bytes, master_fingerprint: bytes) -> None:
        """Store a new customer's key, at the version of the master key that wrapped it."""
        await self.pool.execute(
            "INSERT INTO customer_keys (customer_id, wrapped_key, key_version) VALUES ($1, $2,"
            " coalesce((SELECT version FROM master_keys WHERE fingerprint = $3), 1))",
            customer_id,
            wrapped_key,
            master_fingerprint,
        )

    async def get(self, customer_id: UUID) -> bytes | None:
        """The wrapped key, or None when it was destroyed (or never existed)."""
        value: bytes | None = await self.pool.fetchval(
            "SELECT wrapped_key FROM customer_keys WHERE customer_id = $1", customer_id
        )
        return value

    async def get_many(self, customer_ids: Sequence[UUID]) -> dict[UUID, bytes]:
        """The wrapped keys of several customers in one query (destroyed ones are absent)."""
        if not customer_ids:
            return {}
        rows = await self.pool.fetch(
            "SELECT customer_id, wrapped_key FROM customer_keys"
            " WHERE customer_id = ANY($1::uuid[])",
            list(customer_ids),
        )
        return {row["customer_id"]: row["wrapped_key"] for row in rows}

    async def destroy(self, customer_id: UUID) -> bool:
        """Crypto-shredding: delete the key; True if there was one. Committed at once and
        irreversible, whatever the caller's transaction on the customers database does."""
        status: str = await self.pool.execute(
            "DELETE FROM customer_keys WHERE customer_id = $1", customer_id
        )
        return status != "DELETE 0"

    async def purge_orphans(
        self,
        customers: DbConn,
        older_than: timedelta,
        after: Mark | None = None,
        limit: int = 1000,
    ) -> OrphanPage:
        """One page of the sweep for orphan keys: the next ``limit`` keys (by age, after
        ``after``) older than ``older_than``; those whose customer is not in the customers
        database (a registration that rolled back) are destroyed."""
        async with self.pool.acquire() as conn:
            rows = await conn.fetch(
                "SELECT customer_id, created_at FROM customer_keys"
                " WHERE created_at < now() - $1::interval"
                " AND ($2::timestamptz IS NULL OR (created_at, customer_id) > ($2, $3::uuid))"
                " ORDER BY created_at, customer_id LIMIT $4",
                older_than,
                after[0] if after else None,
                after[1] if after else None,
                limit,
            )
            if not rows:
                return OrphanPage(0, after, full=False)
            seen = [row["customer_id"] for row in rows]
            known = {
                row["id"]
                for row in await customers.fetch(
                    "SELECT id FROM customers WHERE id = ANY($1::uuid[])", seen
                )
            }
            orphans = [cid for cid in seen if cid not in known]
            status = "DELETE 0"
            if orphans:
                status = await conn.execute(
                    "DELETE FROM customer_keys WHERE customer_id = ANY($1::uuid[])", orphans
                )
        last = rows[-1]
        return OrphanPage(
            int(status.split()[-1]), (last["created_at"], last["customer_id"]), len(rows) == limit
        )


def keystore_ctx(store: KeyStore) -> CleanupCtx:
    """The ``cleanup_ctx`` of the key store's pool: opened at start-up, closed at shutdown."""

    async def ctx(_app: web.Application) -> AsyncIterator[None]:
        await store.open()
        yield
        await store.close()

    return ctx


def orphan_sweep_ctx(store: KeyStore, older_than: timedelta, interval_s: float) -> CleanupCtx:
    """The chore destroying orphan keys: it walks the keys older than ``older_than`` page by
    page (remembering where it is, so every key is looked at once after it ages) and logs how
    many it destroyed, never which."""
    mark: Mark | None = None

    async def sweep(conn: DbConn) -> bool:
        nonlocal mark
        page = await store.purge_orphans(conn, older_than, after=mark)
        mark = page.last
        if page.purged:
            log.info("orphan data keys destroyed", count=page.purged)
        return page.full

    return chore_ctx("keystore-orphans", sweep, interval_s)


# --- Master-key rotation (on a connection to the key store, in the caller's transaction) ---


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
