"""RabbitMQ restarts in the middle of cash-on-delivery checkouts; every order still completes.

The whole shop (four services, nginx, sandbox courier and bank) runs against a RabbitMQ node
of this module's own, so real restarts disturb no one else using the shared broker: on
localhost a private node is started on free ports (and stopped afterwards); with
testcontainers the run's container is already private. Three times (``stop_app`` and
``start_app`` twice, then the whole node stopped and started again) orders are placed, the
broker goes away with them in flight, more orders are placed while it is away (the outbox
keeps them), the broker comes back; after each return every queue the shop consumes (the
services' and the stand-ins') has its consumer again within ``RECOVERY_BOUND_S``. Then:
every order is delivered, stock left exactly once per unit, one reservation, one dispatch
and one disclosure per order, the courier got each order once, the quorum queues are still
there and nothing is parked dead.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import gc
import json
import logging
import os
import shutil
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import aio_pika
import aiohttp
import asyncpg
import pytest

from shared.messaging import DISPATCH_EXCHANGE, declare_exchanges
from shared.messaging.topology import courier_routing_key
from tests import infra
from tests.e2e.shopper import ApiClient as Shopper
from tests.e2e.stack import Stack, running_stack
from tests.faults.brokers import new_node, require_root_and_rabbitmq

pytestmark = pytest.mark.asyncio(loop_scope="session")

MAX_BEFORE_STOP = 10  # orders placed as the broker goes away, one every STAGGER_S
STAGGER_S = 0.1
WHILE_DOWN = 3  # orders placed while it is away
QUANTITY = 1
DOWN_FOR_S = 2.0
STARTUP_TIMEOUT_S = 60
RESTARTS = ("app", "app", "node")  # stop_app/start_app twice, then the whole node
RECOVERY_BOUND_S = 15.0
DELIVERY_BOUND_S = 60.0  # how long a queue may go without its consumer once the broker is back
CONSUMED = {  # every queue the shop consumes, and who consumes it
    "catalog.events", "orders.events", "customers.events", "notifications.events",
    "courier.sandbox.dispatch", "bank.sandbox.payments",
}  # fmt: skip


@dataclass
class Broker:
    """A RabbitMQ node this module may restart: its rabbitmqctl and its AMQP URL."""

    ctl: list[str]
    amqp_url: str
    env: dict[str, str] | None = None  # how to start the node again (a private node only)

    def run(self, *args: str, timeout: float = STARTUP_TIMEOUT_S) -> None:
        subprocess.run([*self.ctl, *args], check=True, capture_output=True, timeout=timeout)

    def stop_app(self) -> None:
        self.run("stop_app")

    def start_app(self) -> None:
        """Start the app again and wait until it answers (``await_startup``)."""
        self.run("start_app")
        self.run("await_startup", "--timeout", str(STARTUP_TIMEOUT_S))

    def stop(self, how: str) -> None:
        """``app``: stop the RabbitMQ application; ``node``: stop the whole Erlang node (a
        container's node cannot be started again from outside: there, the application)."""
        if how == "node" and self.env is not None:
            self.run("stop")
        else:
            self.stop_app()

    def start(self, how: str) -> None:
        if how == "node" and self.env is not None:
            start_node(self)
        else:
            self.start_app()

    def consumed(self, vhost: str) -> set[str]:
        """The queues of ``vhost`` that have a consumer now."""
        listing = subprocess.run(
            [*self.ctl, "list_consumers", "-p", vhost, "queue_name", "--quiet"],
            capture_output=True,
            text=True,
            timeout=30,
        )
        if listing.returncode != 0:  # still booting
            return set()
        return {line.strip() for line in listing.stdout.splitlines()} & CONSUMED

    def queues(self, vhost: str) -> dict[str, tuple[str, int]]:
        listing = subprocess.run(
            [*self.ctl, "list_queues", "-p", vhost, "name", "type", "messages", "--quiet"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        found = {}
        for line in listing.splitlines():
            parts = line.split()
            if len(parts) == 3 and parts[2].isdigit():
                found[parts[0]] = (parts[1], int(parts[2]))
        return found


@contextlib.contextmanager
def private_node() -> Iterator[Broker]:
    """A RabbitMQ node of our own on free ports (``tests.faults.brokers.new_node``: its own
    name, ports, config and directories), started as the Debian package runs one."""
    require_root_and_rabbitmq()
    node = new_node(infra.run_token()[:6], "e2e")
    broker = Broker(["rabbitmqctl", "-n", node.name], node.amqp_url, {**os.environ, **node.env})
    try:
        start_node(broker)
        yield broker
    finally:
        subprocess.run([*broker.ctl, "stop"], check=False, capture_output=True, timeout=60)
        shutil.rmtree(node.base, ignore_errors=True)


def start_node(broker: Broker) -> None:
    """Start the private node (its data survives a stop) and wait until it answers."""
    subprocess.run(
        ["rabbitmq-server", "-detached"], env=broker.env, check=True, capture_output=True
    )
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while True:  # the node registers with epmd a moment after -detached returns
        try:
            broker.run("await_startup", "--timeout", "10", timeout=20)
            return
        except subprocess.CalledProcessError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


async def consumers_back(broker: Broker, vhost: str) -> tuple[float | None, set[str]]:
    """Poll until every queue the shop consumes has a consumer again: how long it took (None
    past RECOVERY_BOUND_S) and the queues still without one."""
    started = time.monotonic()
    while True:
        missing = CONSUMED - await asyncio.to_thread(broker.consumed, vhost)
        if not missing:
            return time.monotonic() - started, missing
        if time.monotonic() - started > RECOVERY_BOUND_S:
            return None, missing
        await asyncio.sleep(0.2)


@pytest.fixture(scope="module")
def broker(servers: infra.Servers) -> Iterator[Broker]:
    ctl = servers.rabbitmqctl
    if ctl and ctl[0] == "docker":  # the run's own container: restarting it harms no one
        yield Broker(ctl, servers.amqp_url)
        return
    if ctl is None or os.environ.get("AMQP_URL"):
        pytest.skip("the broker is not ours to restart (AMQP_URL given or no rabbitmqctl)")
    with private_node() as node:
        yield node


@pytest.fixture(scope="module")
async def restart_shop(
    servers: infra.Servers, broker: Broker, tmp_path_factory
) -> AsyncIterator[tuple[Stack, str]]:
    vhost = f"restart-{infra.run_token()}"
    infra.create_vhost(broker.ctl, vhost)
    try:
        amqp_url = infra.amqp_with_vhost(broker.amqp_url, vhost)
        workdir = tmp_path_factory.mktemp("restart")
        async with running_stack(servers, amqp_url, workdir) as stack:
            yield stack, vhost
    finally:
        infra.delete_vhost(broker.ctl, vhost)


async def sign_up(session: aiohttp.ClientSession, base: str, n: int, version: str) -> Shopper:
    shopper = Shopper(session, base)
    email, password = f"restart-{n}-{uuid.uuid4().hex[:6]}@example.kz", f"restart password {n}"
    status, body = await shopper.call(
        "POST",
        "/api/customers/register",
        json={
            "last_name": "Жумабаев",
            "first_name": "Ерлан",
            "phone": f"+7 702 555 {n:02d} {n:02d}",
            "email": email,
            "password": password,
            "delivery_address": {"city": "Астана", "street": "Кенесары", "house": str(n + 1)},
            "accept_policy_version": version,
            "marketing": {"email": False, "sms": False},
            "locale": "ru",
        },
    )
    assert status == 201, body
    status, tokens = await shopper.call(
        "POST", "/api/customers/login", json={"login": email, "password": password}
    )
    assert status == 200, tokens
    shopper.token = tokens["access_token"]
    return shopper


async def check_out(shopper: Shopper, product_id: str) -> dict[str, Any]:
    status, body = await shopper.call(
        "POST", "/api/orders/cart/items", json={"product_id": product_id, "quantity": QUANTITY}
    )
    assert status in (200, 201), body
    status, order = await shopper.call(
        "POST",
        "/api/orders/checkout",
        json={"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 201, order
    return order


async def available(shopper: Shopper, product_id: str) -> int:
    status, product = await shopper.call("GET", f"/api/catalog/products/{product_id}")
    assert status == 200, product
    return int(product["available"])


async def fetch(dsn: str, query: str) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return await conn.fetch(query)
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def dispatch_tap(
    restart_shop: tuple[Stack, str],
) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A durable quorum queue on the dispatch exchange: every dispatch message, restart or not."""
    shop, _ = restart_shop
    connection = await aio_pika.connect_robust(shop.amqp_url, reconnect_interval=0.5)
    channel = await connection.channel()
    await declare_exchanges(channel)
    queue = await channel.declare_queue(
        f"tap.{uuid.uuid4()}", durable=True, arguments={"x-queue-type": "quorum"}
    )
    await queue.bind(DISPATCH_EXCHANGE, courier_routing_key("sandbox"))
    yield queue
    await connection.close()


@contextlib.contextmanager
def amqp_records_not_kept() -> Iterator[None]:
    """aio-pika's and aiormq's error records carry tracebacks whose frames hold their
    channels; pytest's log capture keeps every record, which would keep alive channels that
    a running service loses (the lost consumers this module is about). Their records go
    to stderr instead, kept by no one, while the broker is restarted."""
    loggers = [logging.getLogger(name) for name in ("aio_pika", "aiormq")]
    for logger in loggers:
        logger.propagate = False
    try:
        yield
    finally:
        for logger in loggers:
            logger.propagate = True


@pytest.fixture(scope="module")
async def after_restart(
    restart_shop: tuple[Stack, str], broker: Broker, dispatch_tap
) -> dict[str, Any]:
    shop, vhost = restart_shop
    with amqp_records_not_kept():
        return await restart_during_orders(shop, vhost, broker, dispatch_tap)


async def restart_during_orders(
    shop: Stack, vhost: str, broker: Broker, dispatch_tap: aio_pika.abc.AbstractQueue
) -> dict[str, Any]:
    async with aiohttp.ClientSession() as session:
        status, policy = await Shopper(session, shop.gateway_url).call(
            "GET", "/api/customers/policy"
        )
        assert status == 200
        shoppers = [
            await sign_up(session, shop.gateway_url, n, policy["version"])
            for n in range(len(RESTARTS) * (MAX_BEFORE_STOP + WHILE_DOWN))
        ]
        status, page = await shoppers[0].call("GET", "/api/catalog/products?limit=50")
        product_id = next(p["id"] for p in page["items"] if p["in_stock"])
        stock_before = await available(shoppers[0], product_id)
        queues_before = broker.queues(vhost)
        consumed_before = await asyncio.to_thread(broker.consumed, vhost)

        waiting = iter(shoppers)
        placed: list[tuple[Shopper, asyncio.Task[dict[str, Any]]]] = []
        orders: list[dict[str, Any]] = []
        in_flight: list[tuple[int, int]] = []  # (at the courier, placed) while the broker was away
        recovery: list[tuple[str, float | None, set[str]]] = []
        for how in RESTARTS:
            first = len(placed)
            # Checkouts keep coming while the broker goes away under them (stopping takes a
            # moment), so orders are caught at every step of the flow.
            try:
                stopping = asyncio.create_task(asyncio.to_thread(broker.stop, how))
                while not stopping.done() and len(placed) - first < MAX_BEFORE_STOP:
                    shopper = next(waiting)
                    placed.append((shopper, asyncio.create_task(check_out(shopper, product_id))))
                    await asyncio.sleep(STAGGER_S)
                await stopping
                orders += await asyncio.gather(*(task for _, task in placed[first:]))
                # Checkout needs no broker: these wait in the orders outbox.
                for shopper in [next(waiting) for _ in range(WHILE_DOWN)]:
                    placed.append((shopper, asyncio.create_task(check_out(shopper, product_id))))
                    orders.append(await placed[-1][1])
                await asyncio.sleep(DOWN_FOR_S)
                # Python's cycle collector runs when it likes; here it runs while the broker
                # is away, where a consumer whose channel only the library held (weakly) was
                # lost for good: the stand-ins' were, until they were supervised.
                gc.collect()
                in_flight.append((len(shop.courier.received), len(orders)))
            finally:
                await asyncio.to_thread(broker.start, how)
            recovery.append((how, *await consumers_back(broker, vhost)))
        restarted_at = time.monotonic()

        async def all_delivered() -> list[dict[str, Any]]:
            finals = []
            for (shopper, _), order in zip(placed, orders, strict=True):
                status, body = await shopper.call("GET", f"/api/orders/{order['id']}")
                assert status == 200, body
                finals.append(body)
            return finals

        with contextlib.suppress(TimeoutError):  # the tests say which order is not delivered
            async with asyncio.timeout(DELIVERY_BOUND_S):
                while True:
                    finals = await all_delivered()
                    if all(f["status"] == "delivered" for f in finals):
                        break
                    await asyncio.sleep(0.3)
        finals = await all_delivered()
        recovered_s = time.monotonic() - restarted_at

        stock_after = await available(shoppers[0], product_id)
        disclosures = []
        for shopper, _ in placed:
            status, body = await shopper.call("GET", "/api/customers/me/disclosures")
            assert status == 200
            disclosures += body["items"]

    tapped: collections.Counter[str] = collections.Counter()
    message_ids: dict[str, set[str]] = collections.defaultdict(set)
    dispatch_ids: dict[str, set[str]] = collections.defaultdict(set)
    while (message := await dispatch_tap.get(no_ack=False, fail=False, timeout=5)) is not None:
        body = json.loads(message.body)
        tapped[body["order_ref"]] += 1
        message_ids[body["order_ref"]].add(message.message_id or "")
        dispatch_ids[body["order_ref"]].add(body["dispatch_id"])
        await message.ack()
    order_ids = ", ".join(f"'{f['id']}'" for f in finals)
    reservations = await fetch(
        shop.dsns["catalog"],
        "SELECT r.order_id, r.status, l.quantity FROM reservations r"
        f" JOIN reservation_lines l USING (order_id) WHERE r.order_id IN ({order_ids})",
    )
    return {
        "orders": finals,
        "product_id": product_id,
        "stock_before": stock_before,
        "stock_after": stock_after,
        "reservations": reservations,
        "courier": list(shop.courier.received),
        "tapped": tapped,
        "message_ids": message_ids,
        "dispatch_ids": dispatch_ids,
        "disclosures": disclosures,
        "queues_before": queues_before,
        "queues_after": broker.queues(vhost),
        "recovered_s": recovered_s,
        "in_flight": in_flight,
        "consumed_before": consumed_before,
        "recovery": recovery,
    }


async def test_every_queue_is_consumed_again_after_each_restart(after_restart):
    assert after_restart["consumed_before"] == CONSUMED
    times = [
        (how, "never" if s is None else f"{s:.1f} s") for how, s, _ in after_restart["recovery"]
    ]
    print("consumers back after each return of the broker:", times)
    for how, seconds, missing in after_restart["recovery"]:
        assert not missing, f"{RECOVERY_BOUND_S} s after a {how} restart, no consumer on {missing}"
        assert seconds is not None


async def test_every_order_in_flight_is_delivered(after_restart):
    finals = after_restart["orders"]
    assert len(finals) > len(RESTARTS) * WHILE_DOWN
    for at_courier, placed in after_restart["in_flight"]:
        assert at_courier < placed  # they were in flight
    print(
        f"all delivered {after_restart['recovered_s']:.1f} s after the last restart;"
        f" dispatch messages on the exchange: {len(after_restart['tapped'])}"
    )
    stuck = {f["order_ref"]: f["status"] for f in finals if f["status"] != "delivered"}
    assert not stuck, stuck
    for order in finals:
        assert [h["status"] for h in order["history"]] == ["placed", "dispatched", "delivered"]


async def test_stock_left_exactly_once_per_unit(after_restart):
    orders = len(after_restart["orders"])
    assert after_restart["stock_before"] - after_restart["stock_after"] == orders * QUANTITY
    by_order = collections.Counter(r["order_id"] for r in after_restart["reservations"])
    assert len(by_order) == orders and set(by_order.values()) == {1}
    assert {r["quantity"] for r in after_restart["reservations"]} == {QUANTITY}
    assert {r["status"] for r in after_restart["reservations"]} == {"fulfilled"}


async def test_one_dispatch_per_order_at_the_courier(after_restart):
    refs = sorted(o["order_ref"] for o in after_restart["orders"])
    courier = collections.Counter(d["order_ref"] for d in after_restart["courier"])
    assert sorted(courier) == refs and set(courier.values()) == {1}
    # Every dispatch message on the exchange: one dispatch per order. An unconfirmed publish
    # may be repeated by the relay after the restart (at-least-once), but then as the very
    # same message (same message id and dispatch id), which the courier recognises.
    assert sorted(after_restart["tapped"]) == refs
    for ref in refs:
        assert len(after_restart["dispatch_ids"][ref]) == 1, ref
        assert len(after_restart["message_ids"][ref]) == 1, ref


async def test_one_disclosure_per_order(after_restart):
    courier = [d for d in after_restart["disclosures"] if d["recipient"] == "courier:sandbox"]
    counts = collections.Counter(d["order_ref"] for d in courier)
    assert sorted(counts) == sorted(o["order_ref"] for o in after_restart["orders"])
    assert set(counts.values()) == {1}


async def test_quorum_queues_survive_and_nothing_is_parked(after_restart):
    before, after = after_restart["queues_before"], after_restart["queues_after"]
    assert before and set(before) <= set(after)
    shop_queues = {name: kind for name, (kind, _) in after.items()}
    assert all(kind == "quorum" for kind in shop_queues.values()), shop_queues
    dead = {name: count for name, (_, count) in after.items() if name.endswith(".dead")}
    assert dead and set(dead.values()) == {0}, dead
