"""Catalog product GET through the real service against a bare aiohttp+asyncpg handler.

Both servers run in their own process on the same seeded database and answer the same
query; the load generator (this process) keeps the same number of requests in flight
against each in turn and reports requests/s, p50 and p99.
"""

from __future__ import annotations

import json
import random
from uuid import UUID

from aiohttp import web

from bench.bare_server import serve, serve_or_run
from bench.env import bench_database, bench_servers, bench_vhost
from bench.load import NextRequest, load, spawned, wait_ready
from services.catalog import storage
from services.catalog.seed import seed_demo_catalog
from shared.db import create_pool


def serve_bare(dsn: str, port: int) -> None:
    """The floor: one route, the same query, no middlewares, no broker."""

    async def make_app() -> web.Application:
        pool = await create_pool(dsn)
        app = web.Application()

        async def get_product(request: web.Request) -> web.Response:
            async with pool.acquire() as conn:
                row = await storage.get_product(conn, UUID(request.match_info["id"]))
            if row is None:
                raise web.HTTPNotFound()
            return web.json_response(
                {**dict(row), "id": str(row["id"])}, dumps=lambda d: json.dumps(d, default=str)
            )

        app.router.add_get("/api/catalog/products/{id}", get_product)
        return app

    serve(make_app(), port)


def product_gets(base: str, ids: list[str]) -> NextRequest:
    return lambda: (f"{base}/api/catalog/products/{random.choice(ids)}", {})


async def run() -> dict[str, float]:
    with bench_servers() as servers, bench_vhost(servers) as amqp_url:
        async with bench_database(servers, "catalog") as dsn:
            pool = await create_pool(dsn, min_size=1, max_size=1)
            async with pool.acquire() as conn:
                await seed_demo_catalog(conn)
                ids = [str(r["id"]) for r in await conn.fetch("SELECT id FROM products")]
            await pool.close()
            results = {}
            for name, args in (
                ("bare", ["bare", dsn]),
                ("service", ["service", dsn, amqp_url]),
            ):
                with spawned("bench.catalog_get", *args) as server:
                    await wait_ready(f"{server.base}/api/catalog/products/{ids[0]}")
                    await load(product_gets(server.base, ids[:1]))  # warm-up
                    results[name] = await load(product_gets(server.base, ids))
    bare, service = results["bare"], results["service"]
    for name, figures in results.items():
        print(
            f"catalog GET {name:8s} {figures['rps']:8.0f} req/s"
            f"  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms"
        )
    print(f"catalog GET service / bare {service['rps'] / bare['rps']:8.2f}  (goal >= 0.70)")
    return {
        "ratio": service["rps"] / bare["rps"],
        **{f"service_{k}": v for k, v in service.items()},
    }


if __name__ == "__main__":
    serve_or_run(serve_bare, run)
