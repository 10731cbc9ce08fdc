"""The load side of the checkout benchmark: shoppers that sign up, fill a cart and check out
(closed and open loop), the figures they are read by, and the courier's end of the queue
that tells when each order arrived."""

from __future__ import annotations

import asyncio
import collections
import json
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aio_pika
import aiohttp
from aio_pika.abc import AbstractIncomingMessage

from shared.messaging import courier_queue_name, declare_courier_queue

DRAIN_TIMEOUT_S = 120.0
CHECKOUT = {"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}}
ADDRESS = {"city": "Алматы", "street": "улица Толе би", "house": "101", "postal_code": "050000"}


# ------------------------------------------------------------------------------- figures


def percentile(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


def ms(values: list[float], q: float) -> str:
    return f"{percentile(values, q) * 1000:8.1f}"


@dataclass
class Tracker:
    """Checkouts in flight by order_ref, and the dispatch messages that answer them."""

    posted: dict[str, float] = field(default_factory=dict)  # order_ref -> POST start
    early: dict[str, float] = field(default_factory=dict)  # dispatch seen before the answer
    dispatched: dict[str, float] = field(default_factory=dict)  # order_ref -> arrival
    dispatch_counts: collections.Counter[str] = field(default_factory=collections.Counter)

    def on_posted(self, order_ref: str, started: float) -> None:
        self.posted[order_ref] = started
        if order_ref in self.early:
            self.dispatched[order_ref] = self.early.pop(order_ref)

    def on_dispatch(self, order_ref: str, arrived: float) -> None:
        self.dispatch_counts[order_ref] += 1
        if order_ref in self.posted:
            self.dispatched.setdefault(order_ref, arrived)
        else:
            self.early.setdefault(order_ref, arrived)

    def latencies(self, refs: list[str]) -> list[float]:
        return [self.dispatched[r] - self.posted[r] for r in refs if r in self.dispatched]

    async def drain(self, refs: list[str], timeout: float) -> float:
        """Wait until every order of ``refs`` reached the courier; return the time it took."""
        started = time.perf_counter()
        pending = [r for r in refs if r not in self.dispatched]
        deadline = started + timeout
        while pending and time.perf_counter() < deadline:
            await asyncio.sleep(0.1)
            pending = [r for r in pending if r not in self.dispatched]
        return time.perf_counter() - started


@dataclass
class Phase:
    name: str
    refs: list[str] = field(default_factory=list)
    add_latency: list[float] = field(default_factory=list)
    checkout_latency: list[float] = field(default_factory=list)
    order_latency: list[float] = field(default_factory=list)  # open loop: from scheduled start
    errors: collections.Counter[str] = field(default_factory=collections.Counter)
    elapsed: float = 0.0
    dispatched_in_window: int = 0
    drain_s: float = 0.0


# ------------------------------------------------------------------------------- shoppers


@dataclass
class Shopper:
    token: str
    product_id: str


class Api:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base = session, base

    async def call(
        self, method: str, path: str, *, token: str = "", **kwargs: Any
    ) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.session.request(
            method, self.base + path, headers=headers, **kwargs
        ) as response:
            text = await response.text()
            body = json.loads(text) if text and "json" in response.content_type else None
            return response.status, body


async def register_and_login(
    api: Api, n: int, email: str, password: str, policy_version: str, *, marketing_email: bool
) -> tuple[uuid.UUID, str]:
    """One bench customer registered and signed in as a browser would: its id and access token.
    Shared by every benchmark that needs customers, so they all sign up the same way."""
    status, body = await api.call(
        "POST",
        "/api/customers/register",
        json={
            "last_name": "Тестов",
            "first_name": "Бенч",
            "phone": f"+7 701 {n // 10000 % 1000:03d} {n % 10000:04d}",
            "email": email,
            "password": password,
            "delivery_address": ADDRESS,
            "accept_policy_version": policy_version,
            "marketing": {"email": marketing_email, "sms": False},
            "locale": "ru",
        },
    )
    if status != 201:
        raise RuntimeError(f"register {n}: {status} {body}")
    status, tokens = await api.call(
        "POST", "/api/customers/login", json={"login": email, "password": password}
    )
    if status != 200:
        raise RuntimeError(f"login {n}: {status} {tokens}")
    return uuid.UUID(body["id"]), tokens["access_token"]


async def register_shoppers(api: Api, count: int, products: list[str]) -> list[Shopper]:
    status, policy = await api.call("GET", "/api/customers/policy")
    assert status == 200, policy
    limit = asyncio.Semaphore(8)
    token = uuid.uuid4().hex[:6]

    async def one(n: int) -> Shopper:
        email = f"bench-{token}-{n}@example.kz"
        async with limit:
            _, access = await register_and_login(
                api, n, email, f"bench password {n}", policy["version"], marketing_email=False
            )
        return Shopper(access, products[n % len(products)])

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def place_order(api: Api, shopper: Shopper, phase: Phase, tracker: Tracker) -> bool:
    started = time.perf_counter()
    status, body = await api.call(
        "POST",
        "/api/orders/cart/items",
        token=shopper.token,
        json={"product_id": shopper.product_id, "quantity": 1},
    )
    if status not in (200, 201):
        phase.errors[f"cart {status}"] += 1
        return False
    phase.add_latency.append(time.perf_counter() - started)
    started = time.perf_counter()
    status, body = await api.call(
        "POST",
        "/api/orders/checkout",
        token=shopper.token,
        json=CHECKOUT,
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    if status != 201:
        phase.errors[f"checkout {status}"] += 1
        return False
    phase.checkout_latency.append(time.perf_counter() - started)
    tracker.on_posted(body["order_ref"], started)
    phase.refs.append(body["order_ref"])
    return True


async def closed_loop(
    api: Api, shoppers: list[Shopper], tracker: Tracker, seconds: float, name: str
) -> Phase:
    phase = Phase(name)
    started = time.perf_counter()
    deadline = started + seconds

    async def worker(shopper: Shopper) -> None:
        while time.perf_counter() < deadline:
            if not await place_order(api, shopper, phase, tracker):
                await asyncio.sleep(0.05)

    before = len(tracker.dispatched)
    await asyncio.gather(*(worker(s) for s in shoppers))
    phase.elapsed = time.perf_counter() - started
    phase.dispatched_in_window = len(tracker.dispatched) - before
    phase.drain_s = await tracker.drain(phase.refs, DRAIN_TIMEOUT_S)
    return phase


async def open_loop(
    api: Api, shoppers: list[Shopper], tracker: Tracker, rate: float, seconds: float
) -> Phase:
    phase = Phase(f"open {rate:.0f}/s")
    free: asyncio.Queue[Shopper] = asyncio.Queue()
    for shopper in shoppers:
        free.put_nowait(shopper)
    tasks: set[asyncio.Task[None]] = set()

    async def order(scheduled: float) -> None:
        shopper = await free.get()
        try:
            if await place_order(api, shopper, phase, tracker):
                phase.order_latency.append(time.perf_counter() - scheduled)
        finally:
            free.put_nowait(shopper)

    started = time.perf_counter()
    total = int(rate * seconds)
    for n in range(total):
        scheduled = started + n / rate
        delay = scheduled - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        task = asyncio.create_task(order(scheduled))
        tasks.add(task)
        task.add_done_callback(tasks.discard)
    await asyncio.gather(*tasks)
    phase.elapsed = time.perf_counter() - started
    phase.drain_s = await tracker.drain(phase.refs, DRAIN_TIMEOUT_S)
    return phase


# ------------------------------------------------------------------------ the courier side


async def consume_dispatches(connection: aio_pika.abc.AbstractRobustConnection, tracker: Tracker):  # type: ignore[no-untyped-def]
    channel = await connection.channel()
    await channel.set_qos(prefetch_count=2000)
    await declare_courier_queue(channel, "sandbox")
    queue = await channel.get_queue(courier_queue_name("sandbox"))

    async def on_message(message: AbstractIncomingMessage) -> None:
        arrived = time.perf_counter()
        tracker.on_dispatch(json.loads(message.body)["order_ref"], arrived)
        await message.ack()

    await queue.consume(on_message)
    return channel
