"""Moving the data keys of an existing installation out of the customers database into the
key store, once, as part of ``python -m services.customers migrate``.

Before the key store existed, ``customer_keys`` and ``master_keys`` were tables of the
customers database. ``migrate`` first migrates the key store, then runs ``move_keys``, then
the customers migrations, whose 0019 drops the two tables and refuses to while they still
hold a row. ``move_keys`` copies a batch into the key store, checks that the key store
holds exactly those keys (same wrapped key, same version), and only then deletes the batch
from the customers database; a run stopped anywhere is simply run again (the copy does not
overwrite, the check compares). Nothing is decrypted: the wrapped keys move as they are.
"""

from __future__ import annotations

from uuid import UUID

from shared.db import DbConn


class KeyMoveError(Exception):
    """The key store already holds a different key or master-key version: stop, look."""


async def _has_old_tables(customers: DbConn) -> bool:
    found = await customers.fetchval("SELECT to_regclass('customer_keys') IS NOT NULL")
    return bool(found)


async def _move_master_keys(customers: DbConn, store: DbConn) -> None:
    rows = await customers.fetch("SELECT version, fingerprint, created_at FROM master_keys")
    async with store.transaction():
        await store.executemany(
            "INSERT INTO master_keys (version, fingerprint, created_at) VALUES ($1, $2, $3)"
            " ON CONFLICT DO NOTHING",
            [tuple(row) for row in rows],
        )
        held = {
            row["version"]: row["fingerprint"]
            for row in await store.fetch("SELECT version, fingerprint FROM master_keys")
        }
    if any(held.get(row["version"]) != row["fingerprint"] for row in rows):
        raise KeyMoveError("the key store numbers the master keys differently")


async def _move_batch(customers: DbConn, store: DbConn, limit: int) -> int:
    rows = await customers.fetch(
        "SELECT customer_id, wrapped_key, key_version, created_at FROM customer_keys"
        " ORDER BY customer_id LIMIT $1",
        limit,
    )
    if not rows:
        return 0
    ids: list[UUID] = [row["customer_id"] for row in rows]
    async with store.transaction():
        await store.executemany(
            "INSERT INTO customer_keys (customer_id, wrapped_key, key_version, created_at)"
            " VALUES ($1, $2, $3, $4) ON CONFLICT (customer_id) DO NOTHING",
            [tuple(row) for row in rows],
        )
        held = {
            row["customer_id"]: (row["wrapped_key"], row["key_version"])
            for row in await store.fetch(
                "SELECT customer_id, wrapped_key, key_version FROM customer_keys"
                " WHERE customer_id = ANY($1::uuid[])",
                ids,
            )
        }
    if any(held.get(r["customer_id"]) != (r["wrapped_key"], r["key_version"]) for r in rows):
        raise KeyMoveError("the key store holds a different key for a customer being moved")
    await customers.execute("DELETE FROM customer_keys WHERE customer_id = ANY($1::uuid[])", ids)
    return len(rows)


async def move_keys(customers: DbConn, store: DbConn, *, batch_size: int = 1000) -> int:
    """Move every data key (and the master-key versions) into the key store; the count of
    keys moved now (0 on a fresh installation or when already done)."""
    if not await _has_old_tables(customers):
        return 0
    await _move_master_keys(customers, store)
    moved = 0
    while batch := await _move_batch(customers, store, batch_size):
        moved += batch
    await customers.execute("DELETE FROM master_keys")
    return moved
