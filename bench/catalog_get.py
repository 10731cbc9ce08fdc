"""Catalog product GET through the real service against a bare aiohttp+asyncpg handler.

Both servers run in their own process on the same seeded database and answer the same
query; the load generator (this process) keeps the same number of requests in flight
against each in turn, ``BENCH_ROUNDS`` (3) rounds of ``bench.load.DURATION_S`` each so that
the other load of a shared machine falls on both alike, and reports requests/s, p50, p99
and each server's CPU per request (from /proc: the steadier figure on a busy machine).
"""

from __future__ import annotations

import json
import os
import random
from uuid import UUID

from aiohttp import web

from bench.bare_server import serve, serve_or_run
from bench.env import bench_database, bench_servers, bench_vhost
from bench.load import NextRequest, load, spawned, wait_ready
from bench.profiling import cpu_seconds
from services.catalog.promotion_storage import product_with_offers
from services.catalog.seed import seed_demo_catalog
from shared.db import create_pool

ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))


def serve_bare(dsn: str, port: int) -> None:
    """The floor: one route, the service's statement (the product joined to its live
    offers), stdlib JSON, no middlewares, no broker, no ETag."""

    async def make_app() -> web.Application:
        pool = await create_pool(dsn)
        app = web.Application()

        async def get_product(request: web.Request) -> web.Response:
            async with pool.acquire() as conn:
                row, _ = await product_with_offers(conn, UUID(request.match_info["id"]))
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


def _total(runs: list[dict[str, float]], cpu_s: float) -> dict[str, float]:
    """The rounds of one server as one run: requests/s over their time, the worst p99."""
    requests = sum(r["requests"] for r in runs)
    elapsed = sum(r["requests"] / r["rps"] for r in runs)
    return {
        "requests": requests,
        "rps": requests / elapsed,
        "p50_ms": sorted(r["p50_ms"] for r in runs)[len(runs) // 2],
        "p99_ms": max(r["p99_ms"] for r in runs),
        "cpu_ms": cpu_s * 1000 / requests,
    }


async def run() -> dict[str, float]:
    with bench_servers() as servers, bench_vhost(servers) as amqp_url:
        async with bench_database(servers, "catalog") as dsn:
            pool = await create_pool(dsn, min_size=1, max_size=1)
            async with pool.acquire() as conn:
                await seed_demo_catalog(conn)
                ids = [str(r["id"]) for r in await conn.fetch("SELECT id FROM products")]
            await pool.close()
            with (
                spawned("bench.catalog_get", "bare", dsn) as bare,
                spawned("bench.catalog_get", "service", dsn, amqp_url) as service,
            ):
                spawned_ = {"bare": bare, "service": service}
                for server in spawned_.values():
                    await wait_ready(f"{server.base}/api/catalog/products/{ids[0]}")
                    await load(product_gets(server.base, ids[:1]), 2.0)  # warm-up
                runs: dict[str, list[dict[str, float]]] = {name: [] for name in spawned_}
                cpu = dict.fromkeys(spawned_, 0.0)
                for _ in range(ROUNDS):
                    for name, server in spawned_.items():
                        before = cpu_seconds(server.pid)
                        runs[name].append(await load(product_gets(server.base, ids)))
                        cpu[name] += cpu_seconds(server.pid) - before
    results = {name: _total(done, cpu[name]) for name, done in runs.items()}
    bare_, service_ = results["bare"], results["service"]
    for name, figures in results.items():
        print(
            f"catalog GET {name:8s} {figures['rps']:8.0f} req/s"
            f"  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms"
            f"  server CPU {figures['cpu_ms']:5.3f} ms/req"
        )
    rounds = [s["rps"] / b["rps"] for s, b in zip(runs["service"], runs["bare"], strict=True)]
    print(
        f"catalog GET service / bare {service_['rps'] / bare_['rps']:8.2f}  (goal >= 0.70,"
        f" issue 13: 0.95; rounds {' '.join(f'{r:.2f}' for r in rounds)})"
    )
    return {
        "ratio": service_["rps"] / bare_["rps"],
        **{f"service_{k}": v for k, v in service_.items()},
    }


if __name__ == "__main__":
    serve_or_run(serve_bare, run)
