"""The demo catalog: a pharmacy and health store, seeded idempotently."""

from __future__ import annotations

import os
import subprocess
import sys

from services.catalog.seed import CATEGORIES, PRODUCTS, demo_id, seed_demo_catalog
from tests.catalog.conftest import ROOT, Catalog


async def test_seeding_twice_adds_nothing_the_second_time(catalog: Catalog):
    async with catalog.pool.acquire() as conn, conn.transaction():
        assert await seed_demo_catalog(conn) == len(PRODUCTS)
    async with catalog.pool.acquire() as conn, conn.transaction():
        assert await seed_demo_catalog(conn) == 0
    assert len(PRODUCTS) >= 30
    assert await catalog.pool.fetchval("SELECT count(*) FROM categories") == len(CATEGORIES) + 1
    async with catalog.http.get(
        f"{catalog.url}/api/catalog/products", params={"q": "Парацетамол", "limit": "100"}
    ) as response:
        [item] = (await response.json())["items"]
    assert item["id"] == str(demo_id("product:PARA-500-20"))
    assert item["name"] == "Парацетамол 500 мг, 20 таблеток"
    assert item["price"] == {"amount": 25_000, "currency": "KZT"}
    assert item["category"] == "pain-fever" and item["in_stock"] is True


async def test_cli_migrates_and_seeds(make_database):
    dsn = await make_database("catalog")
    env = {**os.environ, "DATABASE_URL": dsn}
    for command, expected in (("migrate", "applied 0"), ("seed", f"seeded {len(PRODUCTS)}")):
        done = subprocess.run(
            [sys.executable, "-m", "services.catalog", command],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert expected in done.stdout
