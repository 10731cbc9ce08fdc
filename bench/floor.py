"""The floor under one order: what the steps a checkout cannot skip cost on this machine.

Each step is measured bare, with none of the shop's code in it: a request through nginx to an
aiohttp handler that only parses JSON and answers; a call straight to such a handler; an
asyncpg transaction that inserts one row and commits; a persistent message through a quorum
queue (aio-pika, publisher confirms, manual ack); one mail over a kept SMTP session to the
aiosmtpd sink. CPU is read from /proc per process of the step, as ``bench.checkout`` reads
the shop's: this process (unless it plays an outside client), the bare server, nginx,
PostgreSQL's backends of the step's database and its background processes, RabbitMQ, the
SMTP sink, so that other work on a shared machine stays out of the figure (RabbitMQ and
PostgreSQL's background processes still count whatever else uses them). The whole machine's
CPU per step is printed beside it.

A cash-on-delivery order in this design takes at least ``ORDER_STEPS`` of them. Their sum is
a lower bound on the CPU one order needs here, whatever the services do; the cores divided by
it bound the orders/s this machine can reach, and the checkout benchmark's CPU per order
divided into it tells what share of the cost is the floor.

    .venv/bin/python -m bench.floor

It ends with one JSON line: the floor's CPU ms per order, the ceiling, each step's figures.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import uuid4

import aio_pika
import aiohttp
import aiosmtplib

from bench.env import Servers, bench_database, bench_servers, bench_vhost
from bench.profiling import cpu_seconds, machine_cpu_seconds, process_groups
from deploy.gateway import SERVICES, NginxGateway, free_port
from shared import eventloop
from shared.db import create_pool
from shared.messaging.topology import quorum_arguments

SECONDS = float(os.environ.get("BENCH_FLOOR_SECONDS", 8))
CONCURRENCY = 32
CORES = os.cpu_count() or 1

# How many of each step one cash-on-delivery order takes, from the cart to the courier and
# the customer's mail (docs/CONVENTIONS.md, message flow), counting only what the design
# cannot do without.
ORDER_STEPS: dict[str, tuple[int, str]] = {
    "gateway request": (2, "add to cart, checkout"),
    "internal call": (3, "catalog prices the cart twice; customers releases the email"),
    "commit": (
        8,
        "cart line, order, reservation, order reserved, disclosure, order dispatched,"
        " mail logged, release audited (outbox marks batched away)",
    ),
    "message": (
        6,
        "OrderPlaced, StockReserved, DispatchRequested, DispatchMessage, DispatchReleased,"
        " OrderDispatched",
    ),
    "mail": (1, "the order-dispatched mail"),
}


@dataclass(frozen=True)
class StepCost:
    name: str
    operations: int
    seconds: float
    cpu_s: float  # the step's processes
    machine_cpu_s: float  # the whole machine, whatever else runs

    @property
    def cpu_ms_per_op(self) -> float:
        return self.cpu_s * 1000 / max(1, self.operations)

    @property
    def machine_ms_per_op(self) -> float:
        return self.machine_cpu_s * 1000 / max(1, self.operations)

    @property
    def per_second(self) -> float:
        return self.operations / self.seconds


def step_pids(
    groups: tuple[str, ...], *, extra: tuple[int, ...] = (), database: str = ""
) -> list[int]:
    """The processes of ``bench.profiling.process_groups``' ``groups`` (PostgreSQL's
    backends only of ``database``), and ``extra``."""
    found = process_groups({}, "bench-floor-", (database,) if database else ())
    return [pid for group in groups for pid in found[group]] + list(extra)


async def measure(
    name: str,
    operation: Callable[[], Awaitable[None]],
    *,
    outside_client: bool,
    processes: Callable[[], list[int]],
) -> StepCost:
    """Run ``operation`` from ``CONCURRENCY`` tasks for ``SECONDS``; CPU per call of
    ``processes`` and of this one (left out with ``outside_client``: it stands for a
    browser)."""
    for _ in range(20):
        await operation()  # connections opened, statements prepared
    pids = processes()
    count = 0
    deadline = time.perf_counter() + SECONDS

    async def worker() -> None:
        nonlocal count
        while time.perf_counter() < deadline:
            await operation()
            count += 1

    def theirs() -> float:
        return sum(cpu_seconds(pid) for pid in pids)

    machine, own, started = machine_cpu_seconds(), time.process_time(), time.perf_counter()
    before = theirs()
    await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))
    elapsed = time.perf_counter() - started
    own_used = time.process_time() - own
    used = theirs() - before + (0.0 if outside_client else own_used)
    machine_used = machine_cpu_seconds() - machine - (own_used if outside_client else 0.0)
    return StepCost(name, count, elapsed, used, machine_used)


@contextlib.asynccontextmanager
async def bare_server() -> AsyncIterator[tuple[str, int]]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "bench.bare_server", str(port)])
    url = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            for _ in range(100):
                with contextlib.suppress(aiohttp.ClientError):
                    async with session.get(f"{url}/healthz") as response:
                        if response.status == 200:
                            break
                await asyncio.sleep(0.1)
        yield url, process.pid
    finally:
        process.terminate()
        process.wait(10)


async def http_steps(tmp: Path) -> list[StepCost]:
    body = {"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}}
    async with bare_server() as (upstream, pid), aiohttp.ClientSession() as session:
        gateway = NginxGateway(free_port(), dict.fromkeys(SERVICES, upstream), tmp / "nginx")
        async with gateway as base:

            def post(url: str) -> Callable[[], Awaitable[None]]:
                async def call() -> None:
                    async with session.post(url, json=body) as response:
                        await response.read()
                        assert response.status == 200, response.status

                return call

            through_gateway = await measure(
                "gateway request",
                post(f"{base}/api/orders/echo"),
                outside_client=True,
                processes=lambda: step_pids(("nginx",), extra=(pid,)),
            )
        direct = await measure(
            "internal call",
            post(f"{upstream}/api/orders/echo"),
            outside_client=False,
            processes=lambda: [pid],
        )
    return [through_gateway, direct]


async def commit_step(servers: Servers) -> StepCost:
    async with bench_database(servers, "bench") as dsn:
        pool = await create_pool(dsn, min_size=CONCURRENCY, max_size=CONCURRENCY)
        try:
            await pool.execute("CREATE TABLE floor (id uuid PRIMARY KEY, at timestamptz)")

            async def commit() -> None:
                async with pool.acquire() as conn, conn.transaction():
                    await conn.execute("INSERT INTO floor VALUES ($1, now())", uuid4())

            database = dsn.rsplit("/", 1)[1].split("?")[0]
            return await measure(
                "commit",
                commit,
                outside_client=False,
                processes=lambda: step_pids(("postgresql",), database=database),
            )
        finally:
            await pool.close()


@contextlib.asynccontextmanager
async def quorum_round_trip(amqp_url: str) -> AsyncIterator[Callable[[], Awaitable[None]]]:
    """A call that sends one persistent message through a fresh quorum queue (publisher
    confirm) and returns when this process's consumer has received and acked it."""
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        publisher = await connection.channel(publisher_confirms=True)
        consumer = await connection.channel()
        await consumer.set_qos(prefetch_count=CONCURRENCY)
        name = f"floor.{uuid4()}"
        queue = await consumer.declare_queue(name, durable=True, arguments=quorum_arguments())
        waiting: dict[str, asyncio.Future[None]] = {}

        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            await message.ack()
            future = waiting.pop(message.message_id or "", None)
            if future is not None and not future.done():
                future.set_result(None)

        tag = await queue.consume(on_message)
        body = b'{"order_id": "' + b"0" * 36 + b'", "status": "reserved", "weight_g": 500}'

        async def publish_and_receive() -> None:
            message_id = str(uuid4())
            arrived = waiting[message_id] = asyncio.get_running_loop().create_future()
            await publisher.default_exchange.publish(
                aio_pika.Message(
                    body,
                    message_id=message_id,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                    content_type="application/json",
                ),
                routing_key=name,
            )
            await arrived

        try:
            yield publish_and_receive
        finally:
            await queue.cancel(tag)
            await queue.delete(if_unused=False, if_empty=False)


async def message_step(amqp_url: str) -> StepCost:
    async with quorum_round_trip(amqp_url) as publish_and_receive:
        return await measure(
            "message",
            publish_and_receive,
            outside_client=False,
            processes=lambda: step_pids(("rabbitmq",)),
        )


async def mail_step() -> StepCost:
    port = free_port()
    sink = ["-m", "deploy.smtp_sink", "--smtp-port", str(port), "--http-port", str(free_port())]
    process = subprocess.Popen([sys.executable, *sink], stdout=subprocess.DEVNULL)
    data = (
        b"From: shop@example.kz\r\nTo: someone@example.kz\r\nSubject: Order SH-1\r\n"
        b"Content-Type: text/plain; charset=utf-8\r\n\r\n"
    ) + b"Hello, your order is on its way.\r\n" * 20
    sessions: list[aiosmtplib.SMTP] = []
    try:
        for _ in range(100):
            with contextlib.suppress(OSError, aiosmtplib.SMTPException):
                probe = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
                await probe.connect()
                sessions.append(probe)
                break
            await asyncio.sleep(0.1)
        for _ in range(CONCURRENCY - 1):
            session = aiosmtplib.SMTP(hostname="127.0.0.1", port=port)
            await session.connect()
            sessions.append(session)
        idle: asyncio.Queue[aiosmtplib.SMTP] = asyncio.Queue()
        for session in sessions:
            idle.put_nowait(session)

        async def send() -> None:
            session = await idle.get()
            try:
                await session.sendmail("shop@example.kz", ["someone@example.kz"], data)
            finally:
                idle.put_nowait(session)

        return await measure("mail", send, outside_client=False, processes=lambda: [process.pid])
    finally:
        for session in sessions:
            session.close()
        process.terminate()
        process.wait(10)


async def run() -> dict[str, Any]:
    with (
        bench_servers() as servers,
        bench_vhost(servers) as amqp_url,
        tempfile.TemporaryDirectory(prefix="bench-floor-") as tmp,
    ):
        steps = [
            *await http_steps(Path(tmp)),
            await commit_step(servers),
            await message_step(amqp_url),
            await mail_step(),
        ]
    by_name = {step.name: step for step in steps}
    lines = [
        f"floor: each step bare, {CONCURRENCY} at a time for {SECONDS:.0f} s; machine CPU per step",
        f"  {'step':16s}{'per s':>9s}{'CPU ms':>8s}{'machine':>8s}{'x order':>9s}"
        f"{'ms/order':>10s}  why",
    ]
    floor_ms = 0.0
    for name, (times, why) in ORDER_STEPS.items():
        step = by_name[name]
        floor_ms += times * step.cpu_ms_per_op
        lines.append(
            f"  {name:16s}{step.per_second:9.0f}{step.cpu_ms_per_op:8.3f}"
            f"{step.machine_ms_per_op:8.3f}{times:9d}"
            f"{times * step.cpu_ms_per_op:10.2f}  {why}"
        )
    ceiling = CORES * 1000 / floor_ms
    lines += [
        f"floor: at least {floor_ms:.1f} ms of CPU per order -> at most {ceiling:.0f} orders/s"
        f" on {CORES} cores, before any of the shop's own work",
    ]
    print("\n".join(lines), flush=True)
    machine_ms = sum(t * by_name[n].machine_ms_per_op for n, (t, _) in ORDER_STEPS.items())
    result: dict[str, Any] = {
        "bench": "floor",
        "floor_ms_per_order": round(floor_ms, 3),
        "machine_floor_ms_per_order": round(machine_ms, 3),
        "ceiling_orders_per_s": round(ceiling, 1),
        "steps": {
            s.name: {
                "per_s": round(s.per_second, 1),
                "cpu_ms": round(s.cpu_ms_per_op, 4),
                "machine_cpu_ms": round(s.machine_ms_per_op, 4),
                "per_order": ORDER_STEPS[s.name][0],
            }
            for s in steps
        },
    }
    print(json.dumps(result), flush=True)
    return result


if __name__ == "__main__":
    eventloop.run(run())
