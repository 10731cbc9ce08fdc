"""The demo catalog: a pharmacy and health store, seeded idempotently."""

from __future__ import annotations

import os
import subprocess
import sys

from services.catalog.seed import CATEGORIES, DETAILS, PRODUCTS, demo_id, seed_demo_catalog
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
    assert item["attributes"] == {
        "form": "tablets",
        "dosage": "500 мг",
        "pack_size": 20,
        "prescription_only": False,
    }
    assert set(DETAILS) == {sku for sku, *_ in PRODUCTS}


async def test_the_demo_tree_and_its_kazakh_names(catalog: Catalog):
    async with catalog.pool.acquire() as conn, conn.transaction():
        await seed_demo_catalog(conn)
    base = f"{catalog.url}/api/catalog"
    async with catalog.http.get(f"{base}/categories?lang=kk") as response:
        tree = {c["slug"]: c for c in (await response.json())["items"]}
    assert tree["pain-fever"]["parent"] == "medicines"
    assert tree["medicines"]["name"] == "Дәрілер"
    params = {"category": "medicines", "limit": "100"}
    async with catalog.http.get(f"{base}/products", params=params) as response:
        medicines = {item["category"] for item in (await response.json())["items"]}
    assert medicines == {"medicines", "pain-fever", "cold-flu", "digestion"}
    params = {"q": "бетперде", "lang": "kk"}
    async with catalog.http.get(f"{base}/products", params=params) as response:
        [mask] = (await response.json())["items"]
    assert mask["name"] == "Үш қабатты медициналық бетперде, 50 дана" and mask["lang"] == "kk"


async def test_cli_migrates_and_seeds(make_database):
    dsn = await make_database("catalog")
    env = {**os.environ, "DATABASE_URL": dsn}
    for command, expected in (("migrate", "applied 0"), ("seed", f"seeded {len(PRODUCTS)}")):
        done = subprocess.run(
            [sys.executable, "-m", "services.catalog", command],
            cwd=ROOT, env=env, capture_output=True, text=True, timeout=60, check=True,
        )  # fmt: skip
        assert expected in done.stdout
