"""The customer's export (``GET /api/customers/me/export``) of a customer with 100 orders and
200 notifications, through nginx and the real customers service (which asks orders and
notifications over internal HTTP), against a bare baseline of the same queries, in one run.

The whole shop runs as processes (``bench.shop``). ``BENCH_EXPORT_CUSTOMERS`` customers sign
up and sign in through the API and file two requests (one with their own words); their
history is seeded straight into each service's database (``bench.customer_data``:
``BENCH_EXPORT_ORDERS`` orders each, two mails per order, the disclosures and audit rows
those left), next to ``BENCH_BACKGROUND_CUSTOMERS`` other customers' orders, mails and audit
rows (10 orders each), so tables have the size of a shop in use. Then, for each variant, a
closed loop for ``BENCH_SECONDS`` with one request in flight (the latency a customer sees;
the goal is p99 < 1 s) and with ``BENCH_CONCURRENCY`` in flight:

- ``shop``: the real export;
- ``bare``: ``bench.bare_export``, the same SQL reads per service in bare aiohttp + asyncpg
  processes, the customers one asking the other two over HTTP, behind the same nginx;
- ``SQL alone``: the same statements from this process, one connection per database, one
  after the other (no HTTP, no JSON).

The export is read once first and its sections and size printed, so the figures say which
export they measured. ``BENCH_PROFILE=1`` records py-spy profiles of the services during
the shop's concurrent phase and prints where the time goes. Figures only; nothing asserted.

    .venv/bin/python -m bench.customer_export
    BENCH_SECONDS=5 BENCH_BACKGROUND_CUSTOMERS=100 .venv/bin/python -m bench.customer_export
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from uuid import UUID

import aiohttp
import asyncpg

from bench.bare_export import read_sections
from bench.customer_data import (
    History,
    seed_audit_log,
    seed_background,
    seed_customers,
    wait_audit_sealed,
)
from bench.load import NextRequest, closed_loop, figures, http_get, wait_ready
from bench.profiling import py_spy, summarise_profile
from bench.shop import CHEAP_ARGON2, Customer, RunningShop, catalog_products, running_shop, sign_up
from bench.shoppers import Api
from deploy.gateway import SERVICES, NginxGateway, free_port
from deploy.processes import ROOT
from deploy.stack import KEYSTORE
from shared.db import create_pool


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


SECONDS = _env("BENCH_SECONDS", 20)
CONCURRENCY = int(_env("BENCH_CONCURRENCY", 4))
CUSTOMERS = int(_env("BENCH_EXPORT_CUSTOMERS", 20))
ORDERS = int(_env("BENCH_EXPORT_ORDERS", 100))
BACKGROUND = int(_env("BENCH_BACKGROUND_CUSTOMERS", 2000))
AUDIT_ROWS = int(_env("BENCH_AUDIT_ROWS", 500_000))
ROUNDS = int(_env("BENCH_ROUNDS", 4))
WARMUP_S = 3.0
PROFILES = ROOT / "var" / "bench" / "export-profiles"


def export_gets(base: str, customers: list[Customer], bare: bool = False) -> NextRequest:
    def next_request() -> tuple[str, dict[str, str]]:
        customer = random.choice(customers)
        header = {"X-Customer": str(customer.id)} if bare else {}
        return f"{base}/api/customers/me/export", {
            "Authorization": f"Bearer {customer.token}",
            **header,
        }

    return next_request


async def file_requests(
    session: aiohttp.ClientSession, base: str, customers: list[Customer]
) -> None:
    """Two requests each, as a customer files them: access (answered at once) and a
    rectification in their own words (sealed under their key; the export opens it)."""
    api = Api(session, base)
    for customer in customers:
        for body in (
            {"kind": "access"},
            {"kind": "rectification", "detail": "Прошу исправить номер дома в адресе доставки."},
        ):
            status, answer = await api.call(
                "POST", "/api/customers/me/requests", token=customer.token, json=body
            )
            if status != 201:
                raise RuntimeError(f"request {body['kind']}: {status} {answer}")


async def describe(session: aiohttp.ClientSession, base: str, customer: Customer) -> str:
    """One export, read before the clock runs: what it holds and its size."""
    async with session.get(
        f"{base}/api/customers/me/export",
        headers={"Authorization": f"Bearer {customer.token}"},
    ) as response:
        body = await response.read()
        if response.status != 200:
            raise RuntimeError(f"export: {response.status} {body[:300]!r}")
    document = json.loads(body)
    counts = ", ".join(
        f"{name} {len(value)}" for name, value in document.items() if isinstance(value, list)
    )
    return (
        f"the export measured: {len(body) / 1024:.0f} KiB, complete={document.get('complete')};"
        f" {counts}"
    )


Operation = Callable[[], Awaitable[None]]


async def interleaved(
    variants: dict[str, Operation], in_flight: int
) -> dict[str, dict[str, float]]:
    """Each variant for ``SECONDS`` in all, in ``ROUNDS`` turns taken one after the other, so
    that a change in the machine's load (two cores shared) falls on every variant alike."""
    collected: dict[str, list[float]] = {name: [] for name in variants}
    spent = dict.fromkeys(variants, 0.0)
    for _ in range(ROUNDS):
        for name, operation in variants.items():
            started = time.perf_counter()
            collected[name] += await closed_loop(operation, SECONDS / ROUNDS, in_flight)
            spent[name] += time.perf_counter() - started
    return {name: figures(collected[name], spent[name]) for name in variants}


@contextlib.asynccontextmanager
async def bare_services(dsns: dict[str, str], tmp: Path) -> AsyncIterator[str]:
    """The three bare processes on the shop's databases, the customers one behind nginx."""
    ports = {role: free_port() for role in ("orders", "notifications", "customers")}
    urls = {role: f"http://127.0.0.1:{port}" for role, port in ports.items()}
    args = {
        "orders": [dsns["orders"]],
        "notifications": [dsns["notifications"]],
        "customers": [dsns["customers"], dsns[KEYSTORE], urls["orders"], urls["notifications"]],
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "bench.bare_export", role, str(ports[role]), *args[role]]
        )
        for role in ports
    ]
    try:
        for url in urls.values():
            await wait_ready(f"{url}/healthz")
        gateway = NginxGateway(free_port(), dict.fromkeys(SERVICES, urls["customers"]), tmp)
        async with gateway as base:
            yield base
    finally:
        for proc in procs:
            proc.terminate()
            proc.wait(10)


def sql_export(pools: dict[str, asyncpg.Pool], customers: list[Customer]) -> Operation:
    """The same statements from here, the three databases one after the other."""

    async def export() -> None:
        customer_id: UUID = random.choice(customers).id
        for role, pool in pools.items():
            async with pool.acquire() as conn:
                await read_sections(conn, role, customer_id)

    return export


async def prepare(shop: RunningShop, session: aiohttp.ClientSession) -> list[Customer]:
    started = time.perf_counter()
    products = await catalog_products(shop.dsns["catalog"])
    customers = await sign_up(session, shop.base, CUSTOMERS)
    await file_requests(session, shop.base, customers)
    await seed_customers(shop.dsns, [c.id for c in customers], products, History(orders=ORDERS))
    await seed_background(shop.dsns, products, BACKGROUND, orders_each=10)
    await wait_audit_sealed(shop.dsns["customers"])
    await seed_audit_log(shop.dsns["customers"], AUDIT_ROWS)
    print(
        f"{CUSTOMERS} customers with {ORDERS} orders and {2 * ORDERS} mails each, and"
        f" {BACKGROUND} other customers' histories and {AUDIT_ROWS} audit rows,"
        f" ready in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return customers


def report(results: dict[str, dict[str, dict[str, float]]]) -> list[str]:
    lines = [
        "",
        "=" * 78,
        f"customer export ({ORDERS} orders, {2 * ORDERS} notifications; {CUSTOMERS} customers,"
        f" {SECONDS:.0f} s per variant and phase)",
        "=" * 78,
        f"  {'variant':24s}{'in flight':>10s}{'exports':>9s}{'per s':>8s}"
        f"{'p50 ms':>9s}{'p99 ms':>9s}",
    ]
    for variant, by_phase in results.items():
        for phase, got in by_phase.items():
            lines.append(
                f"  {variant:24s}{phase:>10s}{got['requests']:9.0f}{got['rps']:8.1f}"
                f"{got['p50_ms']:9.1f}{got['p99_ms']:9.1f}"
            )
    for phase in results["shop"]:
        shop = results["shop"][phase]
        for baseline in ("bare", "SQL alone"):
            base = results[baseline][phase]
            lines.append(
                f"  shop / {baseline:10s} {phase:>4s}: p50 {shop['p50_ms'] / base['p50_ms']:5.2f}"
                f"  p99 {shop['p99_ms'] / base['p99_ms']:5.2f}"
                f"  exports/s {shop['rps'] / base['rps']:5.2f}"
            )
    worst = max(results["shop"][phase]["p99_ms"] for phase in results["shop"])
    lines.append(f"  goal: p99 < 1000 ms; the shop's worst p99 here {worst:.0f} ms")
    return lines


async def measure(variants: dict[str, Operation]) -> dict[str, dict[str, dict[str, float]]]:
    for operation in variants.values():
        await closed_loop(operation, WARMUP_S, CONCURRENCY)
    results: dict[str, dict[str, dict[str, float]]] = {name: {} for name in variants}
    for in_flight in (1, CONCURRENCY):
        for name, figures_ in (await interleaved(variants, in_flight)).items():
            results[name][f"x{in_flight}"] = figures_
    return results


async def run() -> dict[str, float]:
    print(
        f"customer export bench: {CUSTOMERS} customers x {ORDERS} orders, {SECONDS:.0f} s"
        f" per variant and phase (1 and {CONCURRENCY} in flight, {ROUNDS} rounds)",
        flush=True,
    )
    profile_lines: list[str] = []
    connector = aiohttp.TCPConnector(limit=CONCURRENCY * 2)
    async with (
        running_shop("export", {"customers": CHEAP_ARGON2}) as shop,
        aiohttp.ClientSession(connector=connector) as session,
        contextlib.AsyncExitStack() as exits,
    ):
        customers = await prepare(shop, session)
        print(await describe(session, shop.base, customers[0]), flush=True)
        tmp = exits.enter_context(tempfile.TemporaryDirectory(prefix="bench-export-bare-"))
        bare_base = await exits.enter_async_context(bare_services(shop.dsns, Path(tmp)))
        pools = {
            role: await create_pool(shop.dsns[role], min_size=1, max_size=CONCURRENCY)
            for role in ("customers", KEYSTORE, "orders", "notifications")
        }
        for pool in pools.values():
            exits.push_async_callback(pool.close)
        variants = {
            "shop": http_get(session, export_gets(shop.base, customers)),
            "bare": http_get(session, export_gets(bare_base, customers, bare=True)),
            "SQL alone": sql_export(pools, customers),
        }
        PROFILES.mkdir(parents=True, exist_ok=True)
        pids = {name: pid for name, pid in shop.pids().items() if name != "catalog"}
        with py_spy(pids, SECONDS * 6, PROFILES) as profiles:
            results = await measure(variants)
        for name, path in profiles.items():
            profile_lines += ["", f"py-spy profile of {name}:", *summarise_profile(path)]
    print("\n".join(report(results) + profile_lines), flush=True)
    shop_x1 = results["shop"]["x1"]
    return {
        "export_p50_ms": shop_x1["p50_ms"],
        "export_p99_ms": shop_x1["p99_ms"],
        "export_vs_bare_p50": shop_x1["p50_ms"] / results["bare"]["x1"]["p50_ms"],
    }


if __name__ == "__main__":
    asyncio.run(run())
