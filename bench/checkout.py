"""Checkout benchmark: cash-on-delivery orders from ``POST /api/orders/checkout`` to the courier.

Everything runs on this machine: PostgreSQL and RabbitMQ (fresh bench databases and vhost),
the four services as real processes as ``deploy.stack`` describes them (on free ports), the
SMTP sink, nginx in front, and the load generator (this process). This process also stands
in for the sandbox courier: it consumes ``courier.sandbox.dispatch`` and matches each
dispatch message to the checkout that caused it by ``order_ref``.

Before the clock starts, ``BENCH_CUSTOMERS`` customers register and sign in through the API
(cheap argon2 through the customers settings). An order is what a shopper does: put a line
in the cart, then check out with a fresh ``Idempotency-Key`` (the cart is emptied by each
checkout, so the add-to-cart request is part of every order and is timed separately).

(a) closed loop: ``BENCH_CONCURRENCY`` shoppers for ``BENCH_SECONDS`` (default 60): orders/s
    as dispatch messages at the courier, end-to-end latency from the checkout POST to the
    dispatch, and the checkout API latency;
(b') open loop below saturation: ``BENCH_SUSTAINED_SHARE`` (default 0.6) of the rate (a)
    reached, for ``BENCH_OPEN_SECONDS``: the latency a shopper sees while the machine keeps up;
(b) open loop: orders started at a fixed ``BENCH_RATE`` (default 200/s) for
    ``BENCH_OPEN_SECONDS`` (default 20): the checkout API's p50/p99 (latency counted from the
    scheduled start, so a stalled server is not hidden by a stalled generator); skipped with
    ``BENCH_RATE=0``.

CPU time of every process (services, PostgreSQL, RabbitMQ, nginx, the generator) is read from
/proc around phase (a). ``BENCH_PROFILE=1`` also runs ``py-spy record`` on each service during
phase (a) and prints its top functions. Figures are printed, nothing is asserted; the last
line is one JSON document of them (orders/s, CPU ms per order by process and the shop's sum,
latency percentiles per phase, orders lost and doubled), as ``bench.compare`` reads it.
PostgreSQL counts its background processes and the backends of this run's databases only.

    .venv/bin/python -m bench.checkout
    BENCH_SECONDS=15 BENCH_OPEN_SECONDS=10 .venv/bin/python -m bench.checkout   # quick run
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import tempfile
import time
from pathlib import Path
from typing import Any

import aio_pika
import aiohttp

from bench.env import Servers, bench_database, bench_servers, bench_vhost
from bench.profiling import (
    cpu_snapshot,
    machine_cpu_seconds,
    process_groups,
    py_spy,
    summarise_profile,
)
from bench.shoppers import (
    DRAIN_TIMEOUT_S,
    Api,
    Phase,
    Tracker,
    closed_loop,
    consume_dispatches,
    ms,
    open_loop,
    percentile,
    register_shoppers,
)
from deploy.gateway import SERVICES, NginxGateway
from deploy.local_secrets import ensure_secrets
from deploy.processes import ROOT, Child, stop_all, wait_ready
from deploy.stack import DATABASES, STANDINS, Ports, Shop
from services.catalog.seed import seed_demo_catalog
from shared import eventloop
from shared.db import create_pool

VAR = ROOT / "var"


def _env_float(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


SECONDS = _env_float("BENCH_SECONDS", 60)
CONCURRENCY = int(_env_float("BENCH_CONCURRENCY", 32))
RATE = _env_float("BENCH_RATE", 200)
OPEN_SECONDS = _env_float("BENCH_OPEN_SECONDS", 20)
CUSTOMERS = int(_env_float("BENCH_CUSTOMERS", max(CONCURRENCY, 400)))
WARMUP_S = _env_float("BENCH_WARMUP_SECONDS", 5)
# The rate of phase (b'): this share of what phase (a) sustained.
SUSTAINED_SHARE = _env_float("BENCH_SUSTAINED_SHARE", 0.6)
STOCK = 100_000_000


# ---------------------------------------------------------------------------- the stack


async def seed_with_stock(dsn: str) -> list[str]:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await seed_demo_catalog(conn)
            await conn.execute("UPDATE products SET stock = $1", STOCK)
            rows = await conn.fetch("SELECT id FROM products ORDER BY sku")
        return [str(r["id"]) for r in rows]
    finally:
        await pool.close()


async def commits(dsns: dict[str, str]) -> dict[str, int]:
    """Committed transactions so far in each service's database (pg_stat_database)."""
    found = {}
    for name, dsn in dsns.items():
        pool = await create_pool(dsn, min_size=1, max_size=1)
        try:
            found[name] = int(
                await pool.fetchval(
                    "SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()"
                )
            )
        finally:
            await pool.close()
    return found


async def total_stock(dsn: str) -> int:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        return int(await pool.fetchval("SELECT sum(stock) FROM products"))
    finally:
        await pool.close()


def queue_depth(ctl: list[str] | None, vhost: str) -> int:
    if ctl is None:
        return 0
    listing = subprocess.run(
        [*ctl, "list_queues", "-p", vhost, "name", "messages", "--quiet"],
        capture_output=True,
        text=True,
        check=False,
    ).stdout
    depth = 0
    for line in listing.splitlines():
        parts = line.split()
        if len(parts) == 2 and parts[1].isdigit() and not parts[0].endswith(".dead"):
            depth += int(parts[1])
    return depth


async def quiesce(ctl: list[str] | None, vhost: str, timeout: float = 120) -> None:
    """Wait for registration's side effects (welcome mails) to finish before the clock runs."""
    deadline = time.monotonic() + timeout
    calm = 0
    while calm < 2 and time.monotonic() < deadline:
        depth = await asyncio.to_thread(queue_depth, ctl, vhost)
        calm = calm + 1 if depth == 0 else 0
        await asyncio.sleep(1)


# Over deploy.stack's description: the velocity limits stay on (their query is part of a
# checkout's cost), set above what one load generator on one address sends; cheap argon2.
TUNING: dict[str, dict[str, Any]] = {
    "orders": {
        "checkout_limit_per_account_per_min": 1_000_000,
        "checkout_limit_per_network_per_min": 1_000_000,
    },
    "customers": {"argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024, "access_token_ttl_s": 3600},
}


def bench_shop(dsns: dict[str, str], amqp_url: str, secrets_dir: Path) -> Shop:
    level = os.environ.get("BENCH_LOG_LEVEL")
    tuning = {
        name: {**TUNING.get(name, {}), **({"log_level": level} if level else {})}
        for name in SERVICES
    }
    return Shop(Ports.free(), dsns, amqp_url, ensure_secrets(secrets_dir), tuning=tuning)


def bench_children(shop: Shop, log_dir: Path) -> list[Child]:
    """The SMTP sink and the four services; this process stands in for the courier."""
    return [Child(spec, log_dir) for spec in shop.processes() if spec.name not in STANDINS]


def report_phase(phase: Phase, tracker: Tracker) -> list[str]:
    e2e = tracker.latencies(phase.refs)
    reached = sum(1 for r in phase.refs if r in tracker.dispatched)
    lines = [
        f"{phase.name}: {len(phase.refs)} orders in {phase.elapsed:.1f} s"
        f" = {len(phase.refs) / phase.elapsed:7.1f} checkouts/s accepted;"
        f" {reached} reached the courier (drained {phase.drain_s:.1f} s after the window)",
        f"  {'':24s}{'p50 ms':>8s}{'p90 ms':>8s}{'p99 ms':>8s}{'max ms':>8s}",
    ]
    for label, values in (
        ("add to cart", phase.add_latency),
        ("checkout API", phase.checkout_latency),
        ("order (from schedule)", phase.order_latency),
        ("checkout -> dispatch", e2e),
    ):
        if values:
            lines.append(
                f"  {label:24s}{ms(values, 0.5)}{ms(values, 0.9)}{ms(values, 0.99)}"
                f"{max(values) * 1000:8.1f}"
            )
    if phase.errors:
        lines.append(f"  errors: {dict(phase.errors)}")
    return lines


# What the shop's CPU per order sums: everything working for it, not the load generator.
NOT_THE_SHOP = ("load generator", "other (not this bench)")


def latency_figures(phase: Phase, tracker: Tracker) -> dict[str, Any]:
    figures: dict[str, Any] = {"orders": len(phase.refs), "seconds": round(phase.elapsed, 2)}
    for label, values in (
        ("add_to_cart", phase.add_latency),
        ("checkout_api", phase.checkout_latency),
        ("checkout_to_courier", tracker.latencies(phase.refs)),
    ):
        figures[label] = {
            f"p{int(q * 100)}_ms": round(percentile(values, q) * 1000, 1) if values else None
            for q in (0.5, 0.9, 0.99)
        }
    if phase.errors:
        figures["errors"] = dict(phase.errors)
    return figures


async def run() -> dict[str, Any]:
    print(
        f"checkout bench: {CONCURRENCY} shoppers closed loop {SECONDS:.0f} s;"
        f" open loop {RATE:.0f}/s for {OPEN_SECONDS:.0f} s; {CUSTOMERS} customers",
        flush=True,
    )
    with (
        bench_servers() as servers,
        bench_vhost(servers) as amqp_url,
        tempfile.TemporaryDirectory(prefix="bench-checkout-") as tmp,
    ):
        vhost = amqp_url.rsplit("/", 1)[1]
        async with contextlib.AsyncExitStack() as exits:
            dsns = {
                name: await exits.enter_async_context(bench_database(servers, name))
                for name in DATABASES
            }
            products = await seed_with_stock(dsns["catalog"])
            stock_before = await total_stock(dsns["catalog"])
            shop = bench_shop(dsns, amqp_url, Path(tmp) / "secrets")
            procs = bench_children(shop, VAR / "log" / "bench")
            try:
                for child in procs:
                    await child.start()
                await wait_ready(procs)
                gateway = NginxGateway(shop.ports.gateway, shop.upstreams(), Path(tmp) / "nginx")
                base = await exits.enter_async_context(gateway)
                results = await drive(base, amqp_url, servers, vhost, products, procs, dsns)
                stock_after = await total_stock(dsns["catalog"])
                print(
                    f"stock taken: {stock_before - stock_after} units for"
                    f" {int(results['orders'])} orders"
                )
                results["stock_taken"] = stock_before - stock_after
                print(json.dumps(results), flush=True)
                return results
            finally:
                await stop_all(procs)
    return {}


async def drive(
    base: str,
    amqp_url: str,
    servers: Servers,
    vhost: str,
    products: list[str],
    procs: list[Child],
    dsns: dict[str, str],
) -> dict[str, Any]:
    tracker = Tracker()
    connection = await aio_pika.connect_robust(amqp_url)
    connector = aiohttp.TCPConnector(limit=max(CONCURRENCY, 256) * 2)
    async with connection, aiohttp.ClientSession(connector=connector) as session:
        await consume_dispatches(connection, tracker)
        api = Api(session, base)
        started = time.perf_counter()
        shoppers = await register_shoppers(api, CUSTOMERS, products)
        print(
            f"registered and signed in {len(shoppers)} customers"
            f" in {time.perf_counter() - started:.1f} s",
            flush=True,
        )
        await quiesce(servers.rabbitmqctl, vhost)
        warm = await closed_loop(api, shoppers[:CONCURRENCY], tracker, WARMUP_S, "warm-up")
        print(f"warm-up: {len(warm.refs)} orders", flush=True)
        await quiesce(servers.rabbitmqctl, vhost)

        services = {
            c.name: c.process.pid for c in procs if c.name in SERVICES and c.process is not None
        }
        databases = tuple(dsn.rsplit("/", 1)[1].split("?")[0] for dsn in dsns.values())
        groups = process_groups(services, databases=databases)
        cpu_before, machine_before = cpu_snapshot(groups), machine_cpu_seconds()
        commits_before = await commits(dsns)
        window = time.perf_counter()
        profile_dir = VAR / "bench" / "checkout-profiles"
        profile_dir.mkdir(parents=True, exist_ok=True)
        with py_spy(services, min(SECONDS, 30), profile_dir) as profiles:
            closed = await closed_loop(
                api, shoppers[:CONCURRENCY], tracker, SECONDS, f"closed loop x{CONCURRENCY}"
            )
        closed_wall = time.perf_counter() - window
        cpu_after, machine_after = cpu_snapshot(groups), machine_cpu_seconds()
        await tracker.drain(closed.refs, DRAIN_TIMEOUT_S)
        commits_after = await commits(dsns)
        await quiesce(servers.rabbitmqctl, vhost)
        # Below saturation: the latency a shopper sees when this machine keeps up.
        sustained_rate = max(1.0, SUSTAINED_SHARE * len(closed.refs) / closed.elapsed)
        sustained = await open_loop(api, shoppers, tracker, sustained_rate, OPEN_SECONDS)
        await quiesce(servers.rabbitmqctl, vhost)
        opened = (
            await open_loop(api, shoppers, tracker, RATE, OPEN_SECONDS)
            if RATE > 0
            else Phase(f"open {RATE:.0f}/s (skipped)")
        )

    lines = ["", "=" * 78, "checkout benchmark (cash on delivery, through nginx)", "=" * 78]
    lines += report_phase(closed, tracker)
    rate = closed.dispatched_in_window / closed.elapsed
    lines.append(f"  dispatch messages at the courier during the window: {rate:7.1f} orders/s")
    lines += report_phase(sustained, tracker)
    if RATE > 0:
        lines += report_phase(opened, tracker)
    doubles = sum(1 for c in tracker.dispatch_counts.values() if c > 1)
    lines.append(f"dispatch messages seen twice for one order: {doubles}")
    accepted = [r for p in (warm, closed, sustained, opened) for r in p.refs]
    lost = sum(1 for r in accepted if r not in tracker.dispatched)
    lines.append(f"orders accepted that never reached the courier: {lost}")
    machine = machine_after - machine_before
    lines += [
        "",
        f"CPU during phase (a), {closed_wall:.1f} s wall, 2 cores ="
        f" {2 * closed_wall:.1f} core-s; machine busy {machine:.1f} core-s",
        f"  {'process':24s}{'core-s':>8s}{'share':>8s}{'cores':>7s}{'ms/order':>10s}",
    ]
    orders = max(1, len(closed.refs))
    used_by = {name: cpu_after[name] - cpu_before[name] for name in cpu_after}
    used_by["other (not this bench)"] = machine - sum(used_by.values())
    for name in sorted(used_by, key=lambda n: -used_by[n]):
        used = used_by[name]
        lines.append(
            f"  {name:24s}{used:8.1f}{used / machine:8.1%}{used / closed_wall:7.2f}"
            f"{used * 1000 / orders:10.2f}"
        )
    per_order = {n: (commits_after[n] - commits_before[n]) / orders for n in commits_after}
    lines.append(
        "  PostgreSQL transactions per order: "
        + ", ".join(f"{n} {v:.1f}" for n, v in per_order.items())
        + f" (total {sum(per_order.values()):.1f}; stats are flushed lazily, approximate)"
    )
    if profiles:
        for name, path in profiles.items():
            lines += ["", f"py-spy profile of {name} during phase (a):", *summarise_profile(path)]

    def row(label: str, value: float, goal: str = "") -> str:
        return f"{label:38s}{value:12.1f}  {goal}".rstrip()

    lines += [
        "",
        f"{'summary':38s}{'value':>12s}  goal",
        row("orders/s to the courier (closed loop)", rate, ">= 500"),
        row("checkout p50 ms (closed loop)", percentile(closed.checkout_latency, 0.5) * 1000),
        row("checkout -> dispatch p99 ms", percentile(tracker.latencies(closed.refs), 0.99) * 1000),
        row(
            f"checkout p50 ms at {sustained_rate:.0f}/s",
            percentile(sustained.checkout_latency, 0.5) * 1000,
        ),
        row(
            f"checkout p99 ms at {sustained_rate:.0f}/s",
            percentile(sustained.checkout_latency, 0.99) * 1000,
        ),
        row(f"checkout p50 ms at {RATE:.0f}/s", percentile(opened.checkout_latency, 0.5) * 1000),
        row(
            f"checkout p99 ms at {RATE:.0f}/s",
            percentile(opened.checkout_latency, 0.99) * 1000,
            "< 100",
        ),
    ]
    shop_ms = sum(v for n, v in used_by.items() if n not in NOT_THE_SHOP) * 1000 / orders
    machine_ms = (machine - used_by["load generator"]) * 1000 / orders
    lines.append(
        f"shop CPU per order (its processes, not the load generator): {shop_ms:.2f} ms;"
        f" the whole machine but the load generator: {machine_ms:.2f} ms"
    )
    print("\n".join(lines), flush=True)
    return {
        "bench": "checkout",
        "orders": len(accepted),
        "orders_per_s": round(rate, 2),
        "cpu_ms_per_order": round(shop_ms, 3),
        "machine_cpu_ms_per_order": round(machine_ms, 3),
        "cpu_ms_per_order_by_process": {
            name: round(used * 1000 / orders, 3) for name, used in used_by.items()
        },
        "machine_busy_cores": round(machine / closed_wall, 2),
        "transactions_per_order": {n: round(v, 2) for n, v in per_order.items()},
        "closed": latency_figures(closed, tracker),
        "sustained": {"rate": round(sustained_rate, 1), **latency_figures(sustained, tracker)},
        "open": {"rate": RATE, **latency_figures(opened, tracker)},
        "lost": lost,
        "doubled": doubles,
    }


if __name__ == "__main__":
    VAR.mkdir(exist_ok=True)
    eventloop.run(run())
