"""shared.cli: a service's own database commands run through the one command line."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from services.catalog.__main__ import main as catalog_main
from services.orders.__main__ import main as orders_main
from tests.conftest import MakeDatabase


async def test_database_commands_do_their_work_and_say_how_much(
    make_database: MakeDatabase, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    catalog_dsn = await make_database("catalog")
    monkeypatch.setenv("DATABASE_URL", catalog_dsn)
    assert await asyncio.to_thread(catalog_main, ["seed"]) == 0
    assert await asyncio.to_thread(catalog_main, ["seed"]) == 0  # the products are there
    seeded = capsys.readouterr().out.splitlines()
    conn = await asyncpg.connect(catalog_dsn)
    try:
        products = await conn.fetchval("SELECT count(*) FROM products")
    finally:
        await conn.close()
    assert seeded == [
        f"catalog: seeded {products} new product(s)",
        "catalog: seeded 0 new product(s)",
    ]

    orders_dsn = await make_database("orders")
    monkeypatch.setenv("DATABASE_URL", orders_dsn)
    monkeypatch.setenv("CART_RETENTION_S", "60")
    conn = await asyncpg.connect(orders_dsn)
    try:
        await conn.execute(
            "INSERT INTO carts (id, updated_at) VALUES"
            " (gen_random_uuid(), now() - interval '2 minutes'), (gen_random_uuid(), now())"
        )
        assert await asyncio.to_thread(orders_main, ["purge-carts"]) == 0
        assert await conn.fetchval("SELECT count(*) FROM carts") == 1
    finally:
        await conn.close()
    assert capsys.readouterr().out == "orders: purged 1 anonymous cart(s)\n"
