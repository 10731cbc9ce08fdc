"""What the database holds: no plaintext PD anywhere, shreddable keys, audited reads, logs."""

from __future__ import annotations

import asyncio
import base64
import io
import os
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.customers.domain import PurposeNotAllowed
from services.customers.keys import ACCOUNTS
from services.customers.personal_data import CustomerUnavailable
from services.customers.storage import chain_pending_audit, verify_audit_chain
from tests.customers.conftest import MakeShop, Shop, registration

PD_STRINGS = (
    "Жумабекова",
    "Айгерим",
    "Нурлановна",
    "+77012345678",
    "7012345678",
    "701 234",
    "aigerim.test@example.kz",
    "Aigerim.Test@Example.kz",
    "Шымкент",
    "Тауке хана",
    "160012",
    "домофон 42 звонить",
    "correct horse battery",
)


async def dump_all_columns(shop: Shop, dsn: str | None = None) -> list[tuple[str, str, Any]]:
    """Every text, bytea, jsonb and array value of every table of the customers database (or
    of the database at ``dsn``, e.g. the key store)."""
    conn = await asyncpg.connect(dsn or shop.dsn)
    try:
        columns = await conn.fetch(
            "SELECT table_name, column_name FROM information_schema.columns"
            " WHERE table_schema = 'public'"
            " AND data_type IN ('text', 'bytea', 'jsonb', 'json', 'ARRAY', 'character varying')"
        )
        values: list[tuple[str, str, Any]] = []
        for col in columns:
            table, column = col["table_name"], col["column_name"]
            rows = await conn.fetch(
                f'SELECT "{column}"::text AS v, "{column}" AS raw FROM "{table}"'
            )
            values.extend((table, column, row) for row in rows)
        return values
    finally:
        await conn.close()


def assert_no_plaintext(values: list[tuple[str, str, Any]], skip: set[str] = frozenset()) -> None:
    for table, column, row in values:
        if table in skip:
            continue
        text = row["v"] or ""
        raw = row["raw"]
        blob = raw if isinstance(raw, bytes) else b""
        for needle in PD_STRINGS:
            assert needle.lower() not in text.lower(), f"{needle!r} in {table}.{column}"
            assert needle.encode() not in blob, f"{needle!r} in {table}.{column}"


async def test_no_plaintext_pd_in_any_table(shop: Shop) -> None:
    await shop.register(marketing={"email": True, "sms": True})
    token = await shop.login("aigerim.test@example.kz")
    await shop.call("GET", "/api/customers/me", token=token)
    await shop.call(
        "PATCH",
        "/api/customers/me",
        token=token,
        json={"first_name": "Айгерим", "patronymic": None},
    )
    values = await dump_all_columns(shop)
    tables = {table for table, _, _ in values}
    assert {
        "customers",
        "customer_pd",
        "consents",
        "outbox",
    } <= tables
    # The data keys are in the key store, which holds them and nothing else.
    assert not tables & {"customer_keys", "master_keys"}
    keystore = await dump_all_columns(shop, shop.keystore_dsn)
    assert "customer_keys" in {table for table, _, _ in keystore}
    assert {table for table, _, _ in keystore} <= {
        "customer_keys",
        "master_keys",
        "schema_migrations",
    }
    assert_no_plaintext(keystore)
    assert tables & {"audit_log", "audit_pending"}
    # policy_versions holds the public policy text, no PD of a customer.
    assert_no_plaintext(values, skip={"policy_versions", "schema_migrations"})


async def test_crypto_shredding(shop: Shop) -> None:
    customer_id = UUID(await shop.register())
    gate = shop.app[ACCOUNTS].gate
    conn = await shop.db()
    try:
        pd = await gate.read_pd(conn, customer_id, "support", "staff:test")
        assert pd["first_name"] == "Айгерим"
        ciphertexts = await conn.fetch(
            "SELECT ciphertext FROM customer_pd WHERE customer_id = $1", customer_id
        )
        assert len(ciphertexts) == 6
        assert await gate.shred(conn, customer_id) is True
        assert await gate.shred(conn, customer_id) is False  # idempotent
        with pytest.raises(CustomerUnavailable):
            await gate.read_pd(conn, customer_id, "support", "staff:test")
        assert not await conn.fetchval(
            "SELECT count(*) FROM customer_pd WHERE customer_id = $1", customer_id
        )
    finally:
        await conn.close()
    token = await shop.login("aigerim.test@example.kz")
    status, body = await shop.call("GET", "/api/customers/me", token=token)
    assert status == 404
    assert "Айгерим" not in str(body)


async def test_read_pd_refuses_unknown_purpose_and_audits(shop: Shop) -> None:
    customer_id = UUID(await shop.register())
    gate = shop.app[ACCOUNTS].gate
    conn = await shop.db()
    try:
        with pytest.raises(PurposeNotAllowed):
            await gate.read_pd(conn, customer_id, "curiosity", "staff:test")
        await gate.read_pd(conn, customer_id, "support", "staff:42", ["phone"])
        # Audit rows are sealed onto the chain asynchronously; seal them now.
        await chain_pending_audit(conn)
        last = await conn.fetchrow(
            "SELECT actor, action, purpose, fields FROM audit_log ORDER BY id DESC LIMIT 1"
        )
        assert dict(last) == {
            "actor": "staff:42",
            "action": "read",
            "purpose": "support",
            "fields": ["phone"],
        }
        assert await verify_audit_chain(conn) >= 2
        with pytest.raises(Exception, match="append-only"):
            await conn.execute("DELETE FROM audit_log")
    finally:
        await conn.close()


async def test_audit_chain_detects_tampering(shop: Shop) -> None:
    await shop.register()
    conn = await shop.db()
    try:
        assert await verify_audit_chain(conn) == 1
        async with conn.transaction():
            await conn.execute("ALTER TABLE audit_log DISABLE TRIGGER audit_log_append_only")
            await conn.execute("UPDATE audit_log SET purpose = 'marketing'")
            await conn.execute("ALTER TABLE audit_log ENABLE TRIGGER audit_log_append_only")
        with pytest.raises(ValueError, match="audit chain broken"):
            await verify_audit_chain(conn)
    finally:
        await conn.close()


async def test_blind_index_key_change_breaks_lookup(shop_factory: MakeShop, keys: Any) -> None:
    first = await shop_factory()
    await first.register()
    await first.login("aigerim.test@example.kz")
    other = await shop_factory(blind_index_key=base64.b64encode(os.urandom(32)).decode())
    status, _ = await other.call(
        "POST",
        "/api/customers/login",
        json={"login": "aigerim.test@example.kz", "password": "correct horse battery"},
    )
    assert status == 401


async def test_no_pd_in_logs(shop: Shop, captured_logs: io.StringIO) -> None:
    await shop.register()
    await shop.login("+77012345678")
    await shop.call("POST", "/api/customers/register", json=registration(email="broken"))
    await shop.call(
        "POST", "/api/customers/login", json={"login": "x@example.kz", "password": "nope nope"}
    )
    logs = captured_logs.getvalue()
    assert "customer registered" in logs
    for needle in (*PD_STRINGS, "x@example.kz"):
        assert needle not in logs


async def test_the_running_service_seals_audit_rows_onto_the_chain(shop: Shop) -> None:
    customer_id = UUID(await shop.register())
    token = await shop.login("+7 701 234 56 78")
    status, _ = await shop.call("GET", "/api/customers/me", token=token)
    assert status == 200
    conn = await shop.db()
    try:
        async with asyncio.timeout(10):
            while not await conn.fetchval(
                "SELECT count(*) FROM audit_log WHERE customer_id = $1 AND action = 'read'",
                customer_id,
            ):
                await asyncio.sleep(0.1)
        assert await conn.fetchval("SELECT count(*) FROM audit_pending") == 0
        assert await verify_audit_chain(conn) >= 1
    finally:
        await conn.close()
