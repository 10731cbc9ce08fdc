"""Vault operations from the command line: master-key rotation and the audit-chain check."""

from __future__ import annotations

import base64
import os
from pathlib import Path
from uuid import UUID

import pytest

from services.customers.__main__ import main
from services.customers.crypto import Vault, VaultError
from services.customers.key_rotation import rotate_master
from services.customers.keystore import KeyStore
from services.customers.personal_data import PdGate
from tests.customers.conftest import Keys, MakeShop, Shop

PEOPLE = (
    ("aigerim.test@example.kz", "+77012345678"),
    ("bolat@example.kz", "+77019998877"),
    ("dana@example.kz", "+77051112233"),
)


async def register_people(shop: Shop) -> list[UUID]:
    return [UUID(await shop.register(email=e, phone=p)) for e, p in PEOPLE]


async def read_all(shop: Shop, vault: Vault, ids: list[UUID]) -> list[str]:
    gate = PdGate(vault, KeyStore(shop.keystore_dsn))
    await gate.keys.open()
    conn = await shop.db()
    try:
        async with conn.transaction():
            return [
                (await gate.read_pd(conn, i, "support", "staff:test", ("email",)))["email"]
                for i in ids
            ]
    finally:
        await conn.close()
        await gate.keys.close()


async def wrapped_keys(shop: Shop) -> dict[UUID, tuple[bytes, int]]:
    """The data keys as the key store holds them (the rotation's only table)."""
    conn = await shop.keystore_db()
    try:
        rows = await conn.fetch("SELECT customer_id, wrapped_key, key_version FROM customer_keys")
    finally:
        await conn.close()
    return {r["customer_id"]: (r["wrapped_key"], r["key_version"]) for r in rows}


def cli_env(monkeypatch: pytest.MonkeyPatch, shop: Shop, keys: Keys) -> None:
    monkeypatch.setenv("DATABASE_URL", shop.dsn)
    monkeypatch.setenv("KEYSTORE_DATABASE_URL", shop.keystore_dsn)
    monkeypatch.setenv("MASTER_KEY", base64.b64encode(keys.master).decode())
    monkeypatch.setenv("BLIND_INDEX_KEY", base64.b64encode(keys.blind).decode())
    monkeypatch.setenv("PD_STORE_REGION", "KZ")


async def test_rotation_rewraps_keys_and_resumes(shop: Shop, keys: Keys) -> None:
    ids = await register_people(shop)
    fields_before = await _ciphertexts(shop)
    new_master = os.urandom(32)
    conn = await shop.keystore_db()
    try:
        partial = await rotate_master(conn, keys.master, new_master, batch_size=1, max_batches=1)
        assert (partial.version, partial.rewrapped, partial.remaining) == (2, 1, 2)
        # Mid-rotation a replica holding both keys reads everyone.
        both = Vault(new_master, keys.blind, (keys.master,))
        assert len(await read_all(shop, both, ids)) == 3
        rest = await rotate_master(conn, keys.master, new_master, batch_size=1)
        assert (rest.rewrapped, rest.remaining) == (2, 0)
        again = await rotate_master(conn, keys.master, new_master)
        assert again.rewrapped == 0
    finally:
        await conn.close()
    stored = await wrapped_keys(shop)
    assert {version for _, version in stored.values()} == {2}
    old = Vault(keys.master, keys.blind)
    for customer_id, (wrapped, _) in stored.items():
        with pytest.raises(VaultError):
            old.unwrap(customer_id, wrapped)
    emails = await read_all(shop, Vault(new_master, keys.blind), ids)
    assert emails == [e for e, _ in PEOPLE]
    assert await _ciphertexts(shop) == fields_before  # the data itself was not re-encrypted


async def _ciphertexts(shop: Shop) -> dict[tuple[UUID, str], bytes]:
    conn = await shop.db()
    try:
        rows = await conn.fetch("SELECT customer_id, field, ciphertext FROM customer_pd")
    finally:
        await conn.close()
    return {(r["customer_id"], r["field"]): r["ciphertext"] for r in rows}


async def test_rotate_master_cli_and_the_service_after_it(
    shop_factory: MakeShop,
    keys: Keys,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    shop = await shop_factory()
    ids = await register_people(shop)
    new_master = os.urandom(32)
    key_file = tmp_path / "master.new"
    key_file.write_text(base64.b64encode(new_master).decode() + "\n")
    cli_env(monkeypatch, shop, keys)
    assert await _in_thread(["keys", "rotate-master", "--new-master-key-file", str(key_file)]) == 0
    out = capsys.readouterr().out
    assert "re-wrapped 3 data key(s) under master key v2" in out
    assert str(new_master) not in out and base64.b64encode(new_master).decode() not in out
    # Same key as the current one, or a malformed file: refused.
    same = tmp_path / "same"
    same.write_text(base64.b64encode(keys.master).decode())
    assert await _in_thread(["keys", "rotate-master", "--new-master-key-file", str(same)]) == 1
    bad = tmp_path / "bad"
    bad.write_text("not base64 !")
    assert await _in_thread(["keys", "rotate-master", "--new-master-key-file", str(bad)]) == 1
    # The service started on the new key reads everyone and wraps new customers at v2.
    rotated = await shop_factory(master_key=base64.b64encode(new_master).decode())
    token = await rotated.login("bolat@example.kz")
    status, me = await rotated.call("GET", "/api/customers/me", token=token)
    assert status == 200 and me["id"] == str(ids[1])
    await rotated.register(email="new@example.kz", phone="+77076665544")
    assert {version for _, version in (await wrapped_keys(rotated)).values()} == {2}


async def _in_thread(argv: list[str]) -> int:
    """The CLI runs its own event loop (asyncio.run), so call it off the test's loop."""
    import asyncio

    return await asyncio.to_thread(main, argv)


async def test_audit_verify_cli_finds_the_first_tampered_row(
    shop: Shop, keys: Keys, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    await register_people(shop)
    token = await shop.login("bolat@example.kz")
    await shop.call("GET", "/api/customers/me", token=token)
    cli_env(monkeypatch, shop, keys)
    assert await _in_thread(["audit", "verify"]) == 0
    assert "audit chain intact: 4 rows" in capsys.readouterr().out
    conn = await shop.db()
    try:
        ids = [r["id"] for r in await conn.fetch("SELECT id FROM audit_log ORDER BY id")]
        # An attacker with database rights: disables the guard and rewrites one row.
        await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
        await conn.execute("UPDATE audit_log SET purpose = 'marketing' WHERE id = $1", ids[2])
        await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
    finally:
        await conn.close()
    assert await _in_thread(["audit", "verify"]) == 1
    assert f"BROKEN at row id {ids[2]}" in capsys.readouterr().out
