"""Erasure from the request (``DELETE /api/customers/me`` with the password) to the last
confirmation (orders' and notifications' depersonalisation confirmations back at customers,
the request ``completed``), over ``BENCH_ERASURES`` erasures, against the floor of the same
work done bare, in one run.

The whole shop runs as processes (``bench.shop``). Its customers sign up and sign in through
the API; each has ``BENCH_ERASURE_ORDERS`` closed orders (delivered, or cancelled) and two
mails per order seeded straight into the services' databases (``bench.customer_data``), next
to ``BENCH_BACKGROUND_CUSTOMERS`` other customers' histories and ``BENCH_OUTBOX_ROWS``
published messages in the orders outbox (a week of its retention). With
``BENCH_ARGON2=production`` (the default) every customer's password hash is then replaced by
one made with the service's production argon2 cost, so the password check the erasure makes
costs what it costs in production (signing up used the cheap cost to be quick).

Erasures are started at ``BENCH_ERASURE_RATE`` per second (open loop: each customer erases
on their own schedule, none waits for another's). The token dies with the erasure, so the
progress is read where the customers service keeps it (its ``erasures`` and
``erasure_confirmations`` rows, polled every 50 ms) and every stage is timed from when the
request was sent: the 202 answer, the shredding, each service's confirmation, the completion.

The floor, measured in the same run on the same machine: the argon2 verify alone; the same
database work bare (``bench.bare_erasure``, one erasure after the other); one persistent
message through a quorum queue (publish with confirm, consume, ack: an erasure needs two one
after the other, ``CustomerErased`` then a confirmation); one request through nginx to a bare
handler and one call to a bare handler (the ``DELETE`` and the obligations question to orders).
CPU per erasure by process is read from /proc around the measured phase; ``BENCH_PROFILE=1``
records py-spy profiles of the services during it. Figures only, nothing asserted.

    .venv/bin/python -m bench.customer_erasure
    BENCH_ERASURES=40 BENCH_BACKGROUND_CUSTOMERS=100 .venv/bin/python -m bench.customer_erasure
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
from argon2 import PasswordHasher

from bench.bare_erasure import erase
from bench.checkout import quiesce
from bench.customer_data import (
    History,
    seed_background,
    seed_customers,
    seed_outbox,
    wait_audit_sealed,
)
from bench.floor import bare_server, quorum_round_trip
from bench.load import closed_loop
from bench.profiling import (
    cpu_snapshot,
    machine_cpu_seconds,
    process_groups,
    py_spy,
    summarise_profile,
)
from bench.shop import CHEAP_ARGON2, Customer, RunningShop, catalog_products, running_shop, sign_up
from bench.shoppers import percentile
from deploy.gateway import SERVICES, NginxGateway, free_port
from deploy.processes import ROOT
from deploy.stack import KEYSTORE
from services.customers.config import Settings as CustomersSettings


def _env(name: str, default: float) -> float:
    return float(os.environ.get(name, default))


ERASURES = int(_env("BENCH_ERASURES", 200))
RATE = _env("BENCH_ERASURE_RATE", 0.5)
ORDERS = int(_env("BENCH_ERASURE_ORDERS", 100))
BASELINE_ERASURES = int(_env("BENCH_BASELINE_ERASURES", 30))
BACKGROUND = int(_env("BENCH_BACKGROUND_CUSTOMERS", 2000))
OUTBOX_ROWS = int(_env("BENCH_OUTBOX_ROWS", 100_000))
PRODUCTION_ARGON2 = os.environ.get("BENCH_ARGON2", "production") != "cheap"
WARMUP = 5
FLOOR_SAMPLES = 200
POLL_S = 0.05
DRAIN_TIMEOUT_S = 180.0
PASSWORD = "bench erasure password 2026"
PROFILES = ROOT / "var" / "bench" / "erasure-profiles"

# Where the customers service keeps an erasure's progress (migration 0014): one row per
# request with the times it was shredded and completed, one per service's confirmation.
PROGRESS_SQL = (
    "SELECT e.request_id, extract(epoch FROM e.shredded_at)::float8 AS shredded,"
    " extract(epoch FROM e.completed_at)::float8 AS completed,"
    " coalesce((SELECT jsonb_object_agg(c.service, extract(epoch FROM c.confirmed_at)::float8)"
    "  FROM erasure_confirmations c WHERE c.request_id = e.request_id), '{}') AS confirmed"
    " FROM erasures e WHERE e.request_id = ANY($1::uuid[]) AND e.state = 'completed'"
)
STAGES = ("answer (202)", "shredded", "orders confirmed", "notifications confirmed", "completed")
AFTER_ANSWER = "202 -> completed"


@dataclass
class Erasures:
    """Erasures sent (request id -> wall-clock send time) and the stages each reached."""

    sent: dict[UUID, float] = field(default_factory=dict)
    answered: dict[UUID, float] = field(default_factory=dict)  # request id -> 202 latency
    stages: dict[str, list[float]] = field(
        default_factory=lambda: {s: [] for s in (*STAGES, AFTER_ANSWER)}
    )
    answers: dict[str, int] = field(default_factory=dict)
    done: set[UUID] = field(default_factory=set)

    def pending(self) -> list[UUID]:
        return [r for r in self.sent if r not in self.done]

    def record(self, row: asyncpg.Record) -> None:
        started = self.sent[row["request_id"]]
        self.done.add(row["request_id"])
        confirmed = json.loads(row["confirmed"])
        for stage, at in (
            ("shredded", row["shredded"]),
            ("orders confirmed", confirmed.get("orders")),
            ("notifications confirmed", confirmed.get("notifications")),
            ("completed", row["completed"]),
        ):
            if at is not None:
                self.stages[stage].append(at - started)
        if row["completed"] is not None:
            after = row["completed"] - started - self.answered[row["request_id"]]
            self.stages[AFTER_ANSWER].append(max(0.0, after))


async def erase_one(
    session: aiohttp.ClientSession, base: str, customer: Customer
) -> tuple[UUID, float, float, str]:
    """``DELETE /api/customers/me`` with the password: (request id, sent at, answer latency,
    status)."""
    sent, started = time.time(), time.perf_counter()
    async with session.delete(
        f"{base}/api/customers/me",
        headers={"Authorization": f"Bearer {customer.token}"},
        json={"password": customer.password},
    ) as response:
        body = await response.json(content_type=None)
        latency = time.perf_counter() - started
        if response.status != 202:
            raise RuntimeError(f"erasure: {response.status} {body}")
    return UUID(body["request_id"]), sent, latency, str(body.get("status"))


async def watch(pool: asyncpg.Pool, erasures: Erasures, until: Callable[[], bool]) -> None:
    """Poll the customers database for completed erasures until ``until()`` and none pend."""
    deadline: float | None = None
    while True:
        pending = erasures.pending()
        if pending:
            for row in await pool.fetch(PROGRESS_SQL, pending):
                erasures.record(row)
        if until() and not erasures.pending():
            return
        if until():
            deadline = deadline or time.monotonic() + DRAIN_TIMEOUT_S
            if time.monotonic() > deadline:
                return
        await asyncio.sleep(POLL_S)


async def open_loop(
    session: aiohttp.ClientSession,
    base: str,
    pool: asyncpg.Pool,
    customers: list[Customer],
    rate: float,
) -> tuple[Erasures, float]:
    """Start one erasure every 1/rate s (latency counted from its schedule); wait for all."""
    erasures = Erasures()
    started = time.perf_counter()
    sending = True

    async def one(index: int, customer: Customer) -> None:
        await asyncio.sleep(max(0.0, started + index / rate - time.perf_counter()))
        request_id, sent, latency, status = await erase_one(session, base, customer)
        erasures.sent[request_id] = sent
        erasures.answered[request_id] = latency
        erasures.stages["answer (202)"].append(latency)
        erasures.answers[status] = erasures.answers.get(status, 0) + 1

    async def send_all() -> None:
        nonlocal sending
        try:
            await asyncio.gather(*(one(i, c) for i, c in enumerate(customers)))
        finally:
            sending = False

    sender = asyncio.create_task(send_all())
    await watch(pool, erasures, lambda: not sending)
    await sender
    return erasures, time.perf_counter() - started


# ------------------------------------------------------------------------------- the floor


async def latencies_of(operation: Callable[[], Awaitable[None]], samples: int) -> list[float]:
    for _ in range(5):
        await operation()
    found: list[float] = []
    while len(found) < samples:
        found += await closed_loop(operation, 0.5, 1)
    return found[:samples]


async def argon2_verify(password_hash: str, samples: int = 10) -> list[float]:
    hasher = PasswordHasher()

    async def verify() -> None:
        await asyncio.to_thread(hasher.verify, password_hash, PASSWORD)

    return await latencies_of(verify, samples)


async def bare_database(dsns: dict[str, str], customers: list[Customer]) -> dict[str, list[float]]:
    """The bare database work of one erasure after the other: each part's durations."""
    roles = ("customers", "orders", "notifications", KEYSTORE)
    conns = {role: await asyncpg.connect(dsns[role]) for role in roles}
    try:
        parts: dict[str, list[float]] = {}
        for customer in customers:
            for part, took in (await erase(conns, customer.id)).items():
                parts.setdefault(part, []).append(took)
        return parts
    finally:
        for conn in conns.values():
            await conn.close()


async def http_floor(tmp: Path) -> dict[str, list[float]]:
    """A request through nginx to a bare handler, and a call straight to one."""
    body = {"password": PASSWORD}
    async with bare_server() as upstream, aiohttp.ClientSession() as session:

        def post(url: str) -> Callable[[], Awaitable[None]]:
            async def call() -> None:
                async with session.post(url, json=body) as response:
                    await response.read()

            return call

        gateway = NginxGateway(free_port(), dict.fromkeys(SERVICES, upstream), tmp / "nginx")
        async with gateway as base:
            through = await latencies_of(post(f"{base}/api/orders/echo"), FLOOR_SAMPLES)
        direct = await latencies_of(post(f"{upstream}/api/orders/echo"), FLOOR_SAMPLES)
    return {"gateway request": through, "internal call": direct}


async def floor_figures(
    argon2_before: list[float], shop: RunningShop, baseline: list[Customer], password_hash: str
) -> dict[str, list[float]]:
    steps: dict[str, list[float]] = {}
    # Half before the shop's phase, half after: the machine's other load moves by the minute.
    steps["argon2 verify"] = argon2_before + await argon2_verify(password_hash)
    parts = await bare_database(shop.dsns, baseline)
    steps["database work, bare"] = parts.pop("total")
    steps.update({f"  of which {part}": took for part, took in parts.items()})
    async with quorum_round_trip(shop.amqp_url) as round_trip:
        steps["message round trip"] = await latencies_of(round_trip, FLOOR_SAMPLES)
    with tempfile.TemporaryDirectory(prefix="bench-erasure-floor-") as tmp:
        steps.update(await http_floor(Path(tmp)))
    return steps


# Times each step is on one erasure's path (two messages one after the other).
FLOOR_STEPS = {
    "gateway request": 1,
    "argon2 verify": 1,
    "internal call": 1,
    "database work, bare": 1,
    "message round trip": 2,
}


# ------------------------------------------------------------------------------- the run


def password_hasher() -> PasswordHasher:
    """The service's production cost (its settings' defaults), or the sign-up's cheap one."""
    if not PRODUCTION_ARGON2:
        cheap = CHEAP_ARGON2
        return PasswordHasher(
            time_cost=cheap["argon2_time_cost"], memory_cost=cheap["argon2_memory_kib"]
        )
    defaults = CustomersSettings.model_fields
    return PasswordHasher(
        time_cost=defaults["argon2_time_cost"].default,
        memory_cost=defaults["argon2_memory_kib"].default,
    )


async def give_password_hash(dsn: str, customers: list[Customer]) -> str:
    """Every customer's hash becomes one hash of the shared password, at the chosen cost
    (argon2 verify reads the cost from the hash, so that is what the erasure pays)."""
    password_hash = password_hasher().hash(PASSWORD)
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "UPDATE customers SET password_hash = $1 WHERE id = ANY($2::uuid[])",
            password_hash,
            [c.id for c in customers],
        )
    finally:
        await conn.close()
    return password_hash


async def prepare(
    shop: RunningShop, session: aiohttp.ClientSession, count: int
) -> tuple[list[Customer], str]:
    started = time.perf_counter()
    products = await catalog_products(shop.dsns["catalog"])
    customers = await sign_up(session, shop.base, count, password=PASSWORD)
    await seed_customers(shop.dsns, [c.id for c in customers], products, History(orders=ORDERS))
    await seed_background(shop.dsns, products, BACKGROUND, orders_each=10)
    await seed_outbox(shop.dsns["orders"], OUTBOX_ROWS)
    password_hash = await give_password_hash(shop.dsns["customers"], customers)
    await wait_audit_sealed(shop.dsns["customers"])
    await quiesce(shop.servers.rabbitmqctl, shop.vhost)
    print(
        f"{count} customers with {ORDERS} orders and {2 * ORDERS} mails each,"
        f" {BACKGROUND} other customers' histories, {OUTBOX_ROWS} retained orders outbox rows;"
        f" argon2 {'production' if PRODUCTION_ARGON2 else 'cheap'} cost;"
        f" ready in {time.perf_counter() - started:.0f} s",
        flush=True,
    )
    return customers, password_hash


def ms_row(label: str, values: list[float]) -> str:
    if not values:
        return f"  {label:28s}{'(none)':>8s}"
    cells = "".join(f"{percentile(values, q) * 1000:9.0f}" for q in (0.5, 0.9, 0.99))
    return f"  {label:28s}{len(values):6d}{cells}{max(values) * 1000:9.0f}"


def report(
    erasures: Erasures,
    elapsed: float,
    floor: dict[str, list[float]],
    cpu: dict[str, float],
) -> list[str]:
    header = f"  {'':28s}{'n':>6s}{'p50 ms':>9s}{'p90 ms':>9s}{'p99 ms':>9s}{'max ms':>9s}"
    lines = [
        "",
        "=" * 78,
        f"customer erasure: {len(erasures.sent)} erasures at {RATE:g}/s, {ORDERS} orders and"
        f" {2 * ORDERS} mails each ({elapsed:.0f} s)",
        "=" * 78,
        f"  answers: {erasures.answers}; completed {len(erasures.done)} of {len(erasures.sent)}",
        "  from the request sent to:",
        header,
        *(ms_row(stage, erasures.stages[stage]) for stage in STAGES),
        ms_row(AFTER_ANSWER, erasures.stages[AFTER_ANSWER]),
        "",
        "  the floor, each step bare, one at a time:",
        header,
        *(ms_row(f"{step} x{FLOOR_STEPS[step]}", floor[step]) for step in FLOOR_STEPS),
        *(ms_row(step, took) for step, took in floor.items() if step.startswith("  of which")),
    ]
    floor_p50 = sum(times * percentile(floor[s], 0.5) for s, times in FLOOR_STEPS.items())
    floor_p99 = sum(times * percentile(floor[s], 0.99) for s, times in FLOOR_STEPS.items())
    done = erasures.stages["completed"]
    lines += [
        f"  floor of one erasure: p50 {floor_p50 * 1000:.0f} ms (sum of the steps' p50),"
        f" p99 {floor_p99 * 1000:.0f} ms (sum of their p99)",
        f"  shop / floor: p50 {percentile(done, 0.5) / floor_p50:.2f},"
        f" p99 {percentile(done, 0.99) / floor_p99:.2f}",
        f"  goal: p99 < 2000 ms; the shop's p99 to completed"
        f" {percentile(done, 0.99) * 1000:.0f} ms",
        "",
        f"  CPU per erasure by process (ms; machine {cpu.pop('machine', 0.0):.0f}):",
        "  "
        + ", ".join(
            f"{name} {value:.0f}"
            for name, value in sorted(cpu.items(), key=lambda kv: -kv[1])
            if value >= 0.5
        ),
    ]
    return lines


async def run() -> dict[str, float]:
    print(
        f"customer erasure bench: {ERASURES} erasures at {RATE:g}/s, {ORDERS} orders each,"
        f" baseline {BASELINE_ERASURES}",
        flush=True,
    )
    tuning: dict[str, dict[str, Any]] = {"customers": dict(CHEAP_ARGON2)}
    async with (
        running_shop("erasure", tuning) as shop,
        aiohttp.ClientSession() as session,
        contextlib.AsyncExitStack() as exits,
    ):
        customers, password_hash = await prepare(
            shop, session, WARMUP + ERASURES + BASELINE_ERASURES
        )
        warm, measured = customers[:WARMUP], customers[WARMUP : WARMUP + ERASURES]
        baseline = customers[WARMUP + ERASURES :]
        pool = await asyncpg.create_pool(shop.dsns["customers"], min_size=1, max_size=2)
        exits.push_async_callback(pool.close)
        await open_loop(session, shop.base, pool, warm, 1.0)
        argon2_before = await argon2_verify(password_hash)
        await quiesce(shop.servers.rabbitmqctl, shop.vhost)
        groups = process_groups(shop.pids(), "bench-erasure-")
        cpu_before, machine_before = cpu_snapshot(groups), machine_cpu_seconds()
        PROFILES.mkdir(parents=True, exist_ok=True)
        pids = {name: pid for name, pid in shop.pids().items() if name != "catalog"}
        with py_spy(pids, ERASURES / RATE, PROFILES) as profiles:
            erasures, elapsed = await open_loop(session, shop.base, pool, measured, RATE)
        cpu_after, machine_after = cpu_snapshot(groups), machine_cpu_seconds()
        count = max(1, len(erasures.done))
        cpu = {name: (cpu_after[name] - cpu_before[name]) * 1000 / count for name in cpu_after}
        cpu["machine"] = (machine_after - machine_before) * 1000 / count
        floor = await floor_figures(argon2_before, shop, baseline, password_hash)
    lines = report(erasures, elapsed, floor, cpu)
    for name, path in profiles.items():
        lines += ["", f"py-spy profile of {name}:", *summarise_profile(path)]
    print("\n".join(lines), flush=True)
    done = erasures.stages["completed"]
    return {
        "erasure_p50_ms": percentile(done, 0.5) * 1000,
        "erasure_p99_ms": percentile(done, 0.99) * 1000,
    }


if __name__ == "__main__":
    asyncio.run(run())
