"""Catalog search through the real service against the same SQL bare, at 10 000 and 100 000
products; and the product GET with its ETag (304s) against a full answer and a bare handler.

One database grows from 10 000 to 100 000 generated pharmacy products (the demo seed's
names, in Russian and Kazakh, under made-up makers and pack sizes, plus made-up brand names
for a long tail). At each size the load generator (this process) keeps ``BENCH_CONCURRENCY``
requests in flight for ``BENCH_SECONDS`` against each server in turn, with the same mix of
queries: names, typos, Kazakh words, a category, a price range, the sorts. The floor is a
bare aiohttp + asyncpg process that runs the service's SQL (``search_storage``: the exact
page, and the match mode and the typo page when it is empty) and dumps the rows; the
statements alone, one at a time from this process, give the database's share. Prints figures
and ratios; asserts nothing.
"""

from __future__ import annotations

import json
import os
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode
from uuid import UUID, uuid4

from aiohttp import web

from bench.bare_server import serve, serve_or_run
from bench.env import bench_database, bench_servers, bench_vhost, say
from bench.load import NextRequest, load, spawned, wait_ready
from services.catalog.search import ProductQuery
from services.catalog.search_storage import search_products
from services.catalog.seed import DETAILS, PRODUCTS, seed_demo_catalog
from shared.db import create_pool

SIZES = tuple(int(n) for n in os.environ.get("BENCH_SIZES", "10000,100000").split(","))
SECONDS = float(os.environ.get("BENCH_SECONDS", "8"))
CONCURRENCY = int(os.environ.get("BENCH_CONCURRENCY", "8"))
BARE_STATEMENTS = int(os.environ.get("BENCH_STATEMENTS", "400"))

MAKERS = (
    "Тева", "Санофи", "Сандоз", "Химфарм", "Нобел", "Вертекс", "Озон", "Эвалар", "Байер",
    "Гедеон", "Кромос", "Шымкентфарм", "Зентива", "Акрихин", "Канонфарма", "Берлин-Хеми",
)  # fmt: skip
SYLLABLES = ("ла", "ри", "ко", "мен", "дра", "фло", "зи", "тан", "вел", "рок", "ми", "сан")
QUERIES: tuple[dict[str, str], ...] = (
    {"q": "парацетамол"},
    {"q": "ибупрофен"},
    {"q": "витамин"},
    {"q": "таблетки"},
    {"q": "сироп от кашля"},
    {"q": "парацитамол"},  # a typo
    {"q": "ибупрафен"},  # a typo
    {"q": "дәрумені", "lang": "kk"},  # Kazakh
    {"q": "бетперде", "lang": "kk"},
    {"q": "спрей", "category": "cold-flu"},
    {"q": "омега", "sort": "price_asc"},
    {"category": "medicines"},
    {"category": "vitamins", "min_price": "50000", "max_price": "300000"},
    {"sort": "newest"},
    {"sort": "price_desc", "in_stock": "true"},
)


def _brand(rng: random.Random) -> str:
    word = "".join(rng.choice(SYLLABLES) for _ in range(rng.randint(2, 4)))
    return word.capitalize()


def product_rows(start: int, count: int, category_ids: dict[str, UUID]) -> Iterator[tuple]:
    """``count`` products from number ``start``: two of three a demo product under a maker,
    one of three a made-up brand of the same form (the long tail of a real catalogue)."""
    rng = random.Random(start)
    now = datetime.now(UTC)
    for n in range(start, start + count):
        sku, name, category, price, weight_g, _, description = PRODUCTS[n % len(PRODUCTS)]
        name_kk, form, dosage, pack_size, prescription_only = DETAILS[sku]
        maker = MAKERS[(n // len(PRODUCTS)) % len(MAKERS)]
        if n % 3 == 2:
            brand = _brand(rng)
            name = f"{brand} {name.split(' ', 1)[1] if ' ' in name else name}"
            name_kk = f"{brand} {name_kk.split(' ', 1)[1] if ' ' in name_kk else name_kk}"
        yield (
            uuid4(), f"B-{n:07d}", f"{name} ({maker})", f"{name_kk} ({maker})", description,
            category_ids[category], price + rng.randint(-5, 5) * 1000, weight_g,
            rng.choice((0, 3, 10, 50, 200)), form, dosage, pack_size, prescription_only,
            now - timedelta(minutes=n),
        )  # fmt: skip


COLUMNS = (
    "id", "sku", "name", "name_kk", "description", "category_id", "price", "weight_g", "stock",
    "form", "dosage", "pack_size", "prescription_only", "created_at",
)  # fmt: skip


async def grow_to(dsn: str, size: int) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            have = await conn.fetchval("SELECT count(*) FROM products")
            category_ids = {
                r["slug"]: r["id"] for r in await conn.fetch("SELECT * FROM categories")
            }
            rows = list(product_rows(have, size - have, category_ids))
            await conn.copy_records_to_table("products", records=rows, columns=COLUMNS)
            await conn.execute("VACUUM ANALYZE products")
    finally:
        await pool.close()


def search_targets(base: str) -> NextRequest:
    rng = random.Random(7)
    return lambda: (f"{base}/api/catalog/products?{urlencode(rng.choice(QUERIES))}", {})


def serve_bare(dsn: str, port: int) -> None:
    """The floor: the service's SQL for the same query, its rows dumped, nothing else."""

    async def make_app() -> web.Application:
        pool = await create_pool(dsn)
        app = web.Application()

        async def search(request: web.Request) -> web.Response:
            query = ProductQuery.model_validate(dict(request.query))
            async with pool.acquire() as conn:
                rows, _ = await search_products(conn, query, None, query.limit + 1)
            body = json.dumps([dict(r) for r in rows], default=str, ensure_ascii=False)
            return web.Response(text=body, content_type="application/json")

        async def get_product(request: web.Request) -> web.Response:
            async with pool.acquire() as conn:
                row = await conn.fetchrow(
                    "SELECT * FROM products WHERE id = $1", UUID(request.match_info["id"])
                )
            body = json.dumps(dict(row or {}), default=str, ensure_ascii=False)
            return web.Response(text=body, content_type="application/json")

        app.router.add_get("/api/catalog/products", search)
        app.router.add_get("/api/catalog/products/{id}", get_product)
        return app

    serve(make_app(), port)


async def bare_statements(dsn: str) -> dict[str, float]:
    """The statements alone, one at a time: the database's time per search."""
    pool = await create_pool(dsn, min_size=1, max_size=1)
    rng = random.Random(11)
    latencies = []
    try:
        async with pool.acquire() as conn:
            for _ in range(BARE_STATEMENTS):
                query = ProductQuery.model_validate(rng.choice(QUERIES))
                started = time.perf_counter()
                await search_products(conn, query, None, query.limit + 1)
                latencies.append(time.perf_counter() - started)
    finally:
        await pool.close()
    ordered = sorted(latencies)
    return {
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
    }


async def product_etags(base: str, ids: list[str]) -> dict[str, str]:
    import aiohttp

    tags = {}
    async with aiohttp.ClientSession() as session:
        for product_id in ids:
            async with session.get(f"{base}/api/catalog/products/{product_id}") as response:
                tags[product_id] = response.headers["ETag"]
    return tags


def product_gets(base: str, ids: list[str], etags: dict[str, str] | None) -> NextRequest:
    rng = random.Random(3)

    def next_request() -> tuple[str, dict[str, str]]:
        product_id = rng.choice(ids)
        headers = {"If-None-Match": etags[product_id]} if etags else {}
        return f"{base}/api/catalog/products/{product_id}", headers

    return next_request


async def measure(dsn: str, amqp_url: str) -> dict[str, Any]:
    results: dict[str, Any] = {}
    ids: list[str] = []
    for size in SIZES:
        say(f"growing the catalogue to {size} products")
        await grow_to(dsn, size)
        results[f"sql_{size}"] = await bare_statements(dsn)
        for name, args in (("bare", ["bare", dsn]), ("service", ["service", dsn, amqp_url])):
            with spawned("bench.catalog_search", *args) as server:
                await wait_ready(f"{server.base}/api/catalog/products?limit=1")
                await load(search_targets(server.base), 2.0, CONCURRENCY)  # warm-up
                figures = await load(search_targets(server.base), SECONDS, CONCURRENCY)
                results[f"search_{name}_{size}"] = figures
                if size == SIZES[-1]:
                    if not ids:
                        pool = await create_pool(dsn, min_size=1, max_size=1)
                        rows = await pool.fetch("SELECT id FROM products ORDER BY id LIMIT 2000")
                        ids = [str(r["id"]) for r in rows]
                        await pool.close()
                    results[f"get_{name}"] = await load(product_gets(server.base, ids, None))
                    if name == "service":
                        etags = await product_etags(server.base, ids[:500])
                        not_modified = product_gets(server.base, ids[:500], etags)
                        results["get_service_304"] = await load_304(not_modified)
    return results


async def load_304(next_request: NextRequest) -> dict[str, float]:
    """``bench.load.load`` for answers that must all be 304."""
    import aiohttp

    from bench.load import closed_loop, figures

    async def get(session: aiohttp.ClientSession) -> None:
        url, headers = next_request()
        async with session.get(url, headers=headers) as response:
            await response.read()
            assert response.status == 304, response.status

    connector = aiohttp.TCPConnector(limit=32)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        latencies = await closed_loop(lambda: get(session), 8.0, 32)
        elapsed = time.perf_counter() - started
    return figures(latencies, elapsed)


def report(results: dict[str, Any]) -> None:
    print(f"catalog search: {CONCURRENCY} in flight, {SECONDS:.0f} s per server and size")
    for size in SIZES:
        sql = results[f"sql_{size}"]
        print(
            f"  {size:>7} products  SQL alone (one at a time) p50 {sql['p50_ms']:6.2f} ms"
            f"  p99 {sql['p99_ms']:6.2f} ms"
        )
        for name in ("bare", "service"):
            f = results[f"search_{name}_{size}"]
            print(
                f"  {size:>7} products  {name:8s} {f['rps']:7.0f} req/s  p50 {f['p50_ms']:6.2f} ms"
                f"  p99 {f['p99_ms']:6.2f} ms"
            )
        ratio = results[f"search_service_{size}"]["rps"] / results[f"search_bare_{size}"]["rps"]
        print(f"  {size:>7} products  service / bare {ratio:5.2f}  (goal >= 0.70)")
    p99 = results[f"search_service_{SIZES[-1]}"]["p99_ms"]
    print(f"  search p99 at {SIZES[-1]}: {p99:.1f} ms (goal < 50 ms)")
    print(f"product GET at {SIZES[-1]} products: 32 in flight, 8 s")
    for key, label in (
        ("get_bare", "bare"),
        ("get_service", "service 200"),
        ("get_service_304", "service 304"),
    ):
        f = results[key]
        print(
            f"  {label:12s} {f['rps']:7.0f} req/s  p50 {f['p50_ms']:6.2f} ms"
            f"  p99 {f['p99_ms']:6.2f} ms"
        )
    print(
        f"  service 200 / bare {results['get_service']['rps'] / results['get_bare']['rps']:5.2f}"
        f"  304 / 200 {results['get_service_304']['rps'] / results['get_service']['rps']:5.2f}"
    )


async def run() -> dict[str, Any]:
    with bench_servers() as servers, bench_vhost(servers) as amqp_url:
        async with bench_database(servers, "catalog") as dsn:
            pool = await create_pool(dsn, min_size=1, max_size=1)
            async with pool.acquire() as conn:
                await seed_demo_catalog(conn)
            await pool.close()
            results = await measure(dsn, amqp_url)
    report(results)
    return results


if __name__ == "__main__":
    serve_or_run(serve_bare, run)
