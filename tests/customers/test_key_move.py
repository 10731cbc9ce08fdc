"""An installation from before the key store: ``python -m services.customers migrate`` moves its
data keys out of the customers database into the key store, then 0019 drops the old tables;
the customers read as before. A fresh clone migrates both databases from nothing, and 0019
run without the move refuses rather than lose a key."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.customers.crypto import Vault, master_fingerprint
from services.customers.keystore import KeyStore
from services.customers.personal_data import CustomerUnavailable, PdGate
from shared.migrations import ensure_database, migrate
from tests import infra
from tests.customers.conftest import Keys

ROOT = Path(__file__).resolve().parents[2]
MIGRATIONS = ROOT / "services" / "customers" / "migrations"
KEY_MOVE = "0019_keys_to_keystore"
PEOPLE = {"aigerim.test@example.kz": "Айгерим", "bolat@example.kz": "Болат"}

Named = Callable[[str], Awaitable[str]]


@pytest.fixture
async def database_name(servers: infra.Servers) -> AsyncIterator[Named]:
    """A URL for a database of this test (``await named("x")``; nothing created), dropped
    after whoever created it."""
    names: list[str] = []

    async def named(suffix: str) -> str:
        names.append(f"t_{infra.run_token()}_{suffix}")
        return infra.with_database(servers.pg_admin_dsn, names[-1])

    yield named
    for name in names:
        await infra.drop_database(servers.pg_admin_dsn, name)


async def old_installation(dsn: str, tmp: Path) -> None:
    """The customers database as it was before the key store: every migration up to 0019."""
    older = tmp / "migrations"
    older.mkdir()
    for path in sorted(MIGRATIONS.glob("*.sql")):
        if path.stem < KEY_MOVE:
            shutil.copy(path, older / path.name)
    await ensure_database(dsn)
    await migrate(dsn, older, "customers")


async def old_customers(dsn: str, vault: Vault, previous_master: bytes) -> dict[UUID, str]:
    """Customers as the old code left them: keys in customer_keys (at master key v2 after a
    rotation, v1 recorded too), sealed fields in customer_pd."""
    conn = await asyncpg.connect(dsn)
    out: dict[UUID, str] = {}
    try:
        policy = await conn.fetchval("SELECT max(version) FROM policy_versions")
        await conn.execute(
            "INSERT INTO master_keys (version, fingerprint) VALUES (1, $1), (2, $2)",
            master_fingerprint(previous_master),
            vault.master_fingerprint,
        )
        for email, first_name in PEOPLE.items():
            customer_id, data_key = uuid4(), vault.new_data_key()
            await conn.execute(
                "INSERT INTO customers (id, locale, password_hash, email_index, phone_index,"
                " policy_version) VALUES ($1, 'ru', 'x', $2, $3, $4)",
                customer_id,
                vault.blind_index("email", email),
                vault.blind_index("phone", f"+7701{len(out):07d}"),
                policy,
            )
            await conn.execute(
                "INSERT INTO customer_keys (customer_id, wrapped_key, key_version)"
                " VALUES ($1, $2, 2)",
                customer_id,
                vault.wrap(customer_id, data_key),
            )
            await conn.executemany(
                "INSERT INTO customer_pd (customer_id, field, ciphertext) VALUES ($1, $2, $3)",
                [
                    (customer_id, field, vault.encrypt_field(data_key, customer_id, field, value))
                    for field, value in (("email", email), ("first_name", first_name))
                ],
            )
            out[customer_id] = first_name
    finally:
        await conn.close()
    return out


async def migrate_cli(dsn: str, keystore_dsn: str) -> subprocess.CompletedProcess[str]:
    """``python -m services.customers migrate`` as ``make up`` runs it (no keys needed)."""
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": dsn,
        "KEYSTORE_DATABASE_URL": keystore_dsn,
    }
    command = [sys.executable, "-m", "services.customers", "migrate"]
    return await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )


async def tables(dsn: str) -> set[str]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
        )
    finally:
        await conn.close()
    return {row["table_name"] for row in rows}


async def first_names(
    dsn: str, keystore_dsn: str, vault: Vault, ids: list[UUID]
) -> dict[UUID, str]:
    gate = PdGate(vault, KeyStore(keystore_dsn))
    await gate.keys.open(max_size=1)
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            return {
                customer_id: (
                    await gate.read_pd(conn, customer_id, "support", "staff:t", ("first_name",))
                )["first_name"]
                for customer_id in ids
            }
    finally:
        await conn.close()
        await gate.keys.close()


async def test_migrate_moves_the_keys_of_an_older_installation(
    database_name: Named, keys: Keys, tmp_path: Path
) -> None:
    dsn, keystore_dsn = await database_name("customers"), await database_name("keystore")
    await old_installation(dsn, tmp_path)
    previous = os.urandom(32)
    vault = Vault(keys.master, keys.blind)
    people = await old_customers(dsn, vault, previous)

    done = await migrate_cli(dsn, keystore_dsn)  # the key store does not exist yet
    assert done.returncode == 0, done.stderr
    assert "moved 2 data key(s) into the key store" in done.stdout
    assert not {"customer_keys", "master_keys"} & await tables(dsn)
    store = await asyncpg.connect(keystore_dsn)
    try:
        versions = [tuple(r) for r in await store.fetch("SELECT version FROM master_keys")]
        moved = await store.fetch("SELECT customer_id, key_version FROM customer_keys")
    finally:
        await store.close()
    assert sorted(versions) == [(1,), (2,)]
    assert {(r["customer_id"], r["key_version"]) for r in moved} == {(i, 2) for i in people}
    # Everyone reads as before, from the customers database and the key store.
    assert await first_names(dsn, keystore_dsn, vault, list(people)) == people
    # Run again (every `make up` does): nothing more to move, nothing to apply.
    again = await migrate_cli(dsn, keystore_dsn)
    assert again.returncode == 0, again.stderr
    assert "moved" not in again.stdout and "customers: applied 0 migration(s)" in again.stdout


async def test_a_fresh_clone_migrates_both_databases_from_nothing(database_name: Named) -> None:
    dsn, keystore_dsn = await database_name("customers"), await database_name("keystore")
    done = await migrate_cli(dsn, keystore_dsn)
    assert done.returncode == 0, done.stderr
    assert "customers key store: applied 1 migration(s)" in done.stdout
    assert await tables(keystore_dsn) == {"customer_keys", "master_keys", "schema_migrations"}
    assert "customer_pd" in await tables(dsn)
    assert not {"customer_keys", "master_keys"} & await tables(dsn)


async def test_0019_without_the_move_refuses_and_keeps_the_keys(
    database_name: Named, keys: Keys, tmp_path: Path
) -> None:
    dsn = await database_name("customers")
    await old_installation(dsn, tmp_path)
    vault = Vault(keys.master, keys.blind)
    people = await old_customers(dsn, vault, os.urandom(32))
    with pytest.raises(asyncpg.RaiseError, match="data keys still here"):
        await migrate(dsn, MIGRATIONS, "customers")  # the bare runner, without the move
    conn = await asyncpg.connect(dsn)
    try:
        assert await conn.fetchval("SELECT count(*) FROM customer_keys") == len(people)
    finally:
        await conn.close()


async def test_a_customer_shredded_before_the_move_stays_shredded(
    database_name: Named, keys: Keys, tmp_path: Path
) -> None:
    dsn, keystore_dsn = await database_name("customers"), await database_name("keystore")
    await old_installation(dsn, tmp_path)
    vault = Vault(keys.master, keys.blind)
    people = list(await old_customers(dsn, vault, os.urandom(32)))
    conn = await asyncpg.connect(dsn)
    try:  # shredded the old way: the key row deleted
        await conn.execute("DELETE FROM customer_keys WHERE customer_id = $1", people[0])
    finally:
        await conn.close()
    assert (await migrate_cli(dsn, keystore_dsn)).returncode == 0
    with pytest.raises(CustomerUnavailable):
        await first_names(dsn, keystore_dsn, vault, people[:1])
    assert await first_names(dsn, keystore_dsn, vault, people[1:]) == {people[1]: "Болат"}
