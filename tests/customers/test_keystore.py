"""The data keys live in the key store, a database apart from the PD: registration writes the
key there first, orphans of failed registrations are swept, shredding destroys the key, and a
backup of the customers database brings no shredded customer back."""

from __future__ import annotations

import asyncio
import os
import stat
import subprocess
import sys
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.customers.backup import backup_name, without_password
from services.customers.config import derived_keystore_url
from services.customers.crypto import Vault
from services.customers.keys import ACCOUNTS, KEYSTORE
from services.customers.keystore import KeyStore
from services.customers.personal_data import CustomerUnavailable, PdGate
from tests import infra
from tests.customers.conftest import Keys, MakeShop, Shop, registration

ROOT = Path(__file__).resolve().parents[2]
Restore = Callable[[Path], Awaitable[str]]
AIGERIM = ("aigerim.test@example.kz", "+77012345678")
BOLAT = ("bolat@example.kz", "+77019998877")


async def key_rows(shop: Shop) -> dict[UUID, bytes]:
    conn = await shop.keystore_db()
    try:
        rows = await conn.fetch("SELECT customer_id, wrapped_key FROM customer_keys")
    finally:
        await conn.close()
    return {row["customer_id"]: row["wrapped_key"] for row in rows}


async def age_keys(shop: Shop, ids: list[UUID], by: timedelta) -> None:
    """Make keys look older (what the minutes after a failed registration would do)."""
    conn = await shop.keystore_db()
    try:
        await conn.execute(
            "UPDATE customer_keys SET created_at = created_at - $2::interval"
            " WHERE customer_id = ANY($1::uuid[])",
            ids,
            by,
        )
    finally:
        await conn.close()


async def orphan_key(shop: Shop, keys: Keys, age: timedelta) -> UUID:
    """A key whose customer never committed, ``age`` old."""
    vault = Vault(keys.master, keys.blind)
    customer_id = uuid4()
    conn = await shop.keystore_db()
    try:
        await conn.execute(
            "INSERT INTO customer_keys (customer_id, wrapped_key, created_at)"
            " VALUES ($1, $2, now() - $3::interval)",
            customer_id,
            vault.wrap(customer_id, vault.new_data_key()),
            age,
        )
    finally:
        await conn.close()
    return customer_id


def test_pg_dump_gets_the_password_through_its_environment_not_its_arguments() -> None:
    url, env = without_password("postgresql://shop:p%40ss@127.0.0.1:5432/shop_keystore")
    assert url == "postgresql://shop@127.0.0.1:5432/shop_keystore"
    assert env == {"PGPASSWORD": "p@ss"}
    assert without_password("postgresql://postgres@127.0.0.1/k") == (
        "postgresql://postgres@127.0.0.1/k",
        {},
    )


def test_the_key_store_defaults_next_to_the_customers_database() -> None:
    assert derived_keystore_url("postgresql://h:5432/shop_customers?sslmode=require") == (
        "postgresql://h:5432/shop_customers_keystore?sslmode=require"
    )


async def test_registration_keeps_the_key_in_the_key_store_only(shop: Shop) -> None:
    customer_id = UUID(await shop.register())
    assert set(await key_rows(shop)) == {customer_id}
    conn = await shop.db()
    try:
        tables = {
            row["table_name"]
            for row in await conn.fetch(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'public'"
            )
        }
    finally:
        await conn.close()
    assert "customer_pd" in tables
    assert not tables & {"customer_keys", "master_keys"}
    token = await shop.login(AIGERIM[0])
    status, me = await shop.call("GET", "/api/customers/me", token=token)
    assert status == 200 and me["first_name"] == "Айгерим"


async def test_a_refused_registration_leaves_no_key(shop: Shop) -> None:
    await shop.register()
    status, _ = await shop.call(
        "POST",
        "/api/customers/register",
        json=registration(),
    )
    assert status == 409
    assert len(await key_rows(shop)) == 1


async def test_the_chore_destroys_old_orphan_keys_only(shop_factory: MakeShop, keys: Keys) -> None:
    shop = await shop_factory(keystore_orphan_after_s=60, keystore_orphan_sweep_s=0.1)
    customer = UUID(await shop.register())
    await age_keys(shop, [customer], timedelta(hours=2))  # an old customer: stays
    old = await orphan_key(shop, keys, timedelta(minutes=5))
    young = await orphan_key(shop, keys, timedelta(seconds=5))  # may still commit: stays
    for _ in range(100):
        if old not in await key_rows(shop):
            break
        await asyncio.sleep(0.1)
    assert set(await key_rows(shop)) == {customer, young}
    token = await shop.login(AIGERIM[0])
    assert (await shop.call("GET", "/api/customers/me", token=token))[0] == 200


async def test_the_sweep_pages_past_customers_to_later_orphans(shop: Shop, keys: Keys) -> None:
    """A page full of real customers does not hide the orphans after it."""
    real = [UUID(await shop.register(email=e, phone=p)) for e, p in (AIGERIM, BOLAT)]
    await age_keys(shop, real, timedelta(hours=3))
    orphan = await orphan_key(shop, keys, timedelta(hours=1))
    store = shop.app[ACCOUNTS].gate.keys
    conn = await shop.db()
    try:
        first = await store.purge_orphans(conn, timedelta(minutes=10), limit=2)
        assert (first.purged, first.full) == (0, True)
        second = await store.purge_orphans(conn, timedelta(minutes=10), after=first.last, limit=2)
        assert (second.purged, second.full) == (1, False)
    finally:
        await conn.close()
    assert set(await key_rows(shop)) == set(real)
    assert orphan not in await key_rows(shop)


async def test_readiness_names_the_key_store(shop: Shop) -> None:
    assert (await shop.call("GET", "/readyz"))[0] == 200
    await shop.app[KEYSTORE].close()  # the key store gone: no PD opens, the service says so
    status, body = await shop.call("GET", "/readyz")
    assert status == 503 and "keystore" in body["detail"]


# --- Backups -------------------------------------------------------------------------------


def _run(args: list[str], dsn: str) -> None:
    url, secret = without_password(dsn)
    subprocess.run([*args, "--dbname", url], check=True, env={**os.environ, **secret})


async def pg_dump(dsn: str, path: Path) -> None:
    await asyncio.to_thread(
        _run, ["pg_dump", "--format=custom", "--no-owner", "--file", str(path)], dsn
    )


async def pg_restore(dsn: str, path: Path) -> None:
    await asyncio.to_thread(_run, ["pg_restore", "--no-owner", str(path)], dsn)


@pytest.fixture
async def restored_db(servers: infra.Servers) -> AsyncIterator[Restore]:
    """Restore a dump into a new database (dropped after): ``await restored(path) -> dsn``."""
    made: list[str] = []

    async def restore(path: Path) -> str:
        name = f"t_{infra.run_token()}_restored"
        dsn = await infra.create_database(servers.pg_admin_dsn, name)
        made.append(name)
        await pg_restore(dsn, path)
        return dsn

    yield restore
    for name in made:
        await infra.drop_database(servers.pg_admin_dsn, name)


async def read_email(gate: PdGate, dsn: str, customer_id: UUID) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        async with conn.transaction():
            pd = await gate.read_pd(conn, customer_id, "support", "staff:restore", ("email",))
    finally:
        await conn.close()
    return str(pd["email"])


async def test_a_restored_customers_backup_does_not_bring_a_shredded_customer_back(
    shop: Shop, keys: Keys, tmp_path: Path, restored_db: Restore
) -> None:
    aigerim = UUID(await shop.register(email=AIGERIM[0], phone=AIGERIM[1]))
    bolat = UUID(await shop.register(email=BOLAT[0], phone=BOLAT[1]))
    wrapped = await key_rows(shop)
    dump = tmp_path / "customers.dump"
    await pg_dump(shop.dsn, dump)
    # The backup of the PD holds ciphertext, never a data key.
    content = dump.read_bytes()
    assert all(key not in content for key in wrapped.values())
    # Aigerim is erased: her key destroyed in the key store.
    gate = shop.app[ACCOUNTS].gate
    conn = await shop.db()
    try:
        async with conn.transaction():
            assert await gate.shred(conn, aigerim)
    finally:
        await conn.close()
    # Restore the backup taken before the shredding; the master key and the live key store
    # are at hand (the worst case: an insider with both).
    restored = await restored_db(dump)
    conn = await asyncpg.connect(restored)
    try:
        sealed = await conn.fetchval(
            "SELECT count(*) FROM customer_pd WHERE customer_id = $1", aigerim
        )
    finally:
        await conn.close()
    assert sealed == 6  # her ciphertexts came back with the dump ...
    with_master = PdGate(Vault(keys.master, keys.blind), KeyStore(shop.keystore_dsn))
    await with_master.keys.open(max_size=1)
    try:
        with pytest.raises(CustomerUnavailable):  # ... and open to nothing
            await read_email(with_master, restored, aigerim)
        # A customer not shredded opens from the dump and the key store.
        assert await read_email(with_master, restored, bolat) == BOLAT[0]
    finally:
        await with_master.keys.close()


async def test_key_store_backups_are_pruned_past_their_retention(
    shop: Shop, tmp_path: Path, restored_db: Restore
) -> None:
    """``keys backup`` dumps the key store and deletes its backups older than the retention:
    the longest a shredded customer's key survives in any backup."""
    customer_id = UUID(await shop.register())
    backups = tmp_path / "keystore-backups"
    backups.mkdir()
    now = datetime.now(UTC)
    expired = backups / backup_name(now - timedelta(days=8))
    kept = backups / backup_name(now - timedelta(days=6))
    other = backups / "notes.txt"
    for path in (expired, kept, other):
        path.write_text("an older file")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": shop.dsn,
        "KEYSTORE_DATABASE_URL": shop.keystore_dsn,
        "KEYSTORE_BACKUP_RETENTION_DAYS": "7",
    }
    command = [sys.executable, "-m", "services.customers", "keys", "backup", "--dir", str(backups)]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert "pruned 1 backup(s) older than 7 day(s)" in done.stdout
    [new] = [p for p in backups.glob("keystore-*.dump") if p not in (kept,)]
    assert not expired.exists() and kept.exists() and other.exists()
    assert stat.S_IMODE(new.stat().st_mode) == 0o600
    # Within the retention the backup still holds the key (the window the README states).
    restored = await restored_db(new)
    conn = await asyncpg.connect(restored)
    try:
        held = await conn.fetchval(
            "SELECT count(*) FROM customer_keys WHERE customer_id = $1", customer_id
        )
        tables = {
            r["tablename"]
            for r in await conn.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
        }
    finally:
        await conn.close()
    assert held == 1
    assert tables == {"customer_keys", "master_keys", "schema_migrations"}  # keys, no PD
