"""The customer cancels an order whose dispatch is already under way, through the whole shop.

- card: checkout -> stock reserved -> paid on the sandbox bank's page -> dispatch requested
  -> the customer cancels while customers has not released it yet -> order cancelled,
  payment refunded through the bank, stock back; the cancel reaches the courier, and when
  customers takes in the late dispatch request it releases nothing (it heard of the
  cancellation): the courier never gets the recipient's data.
- cash on delivery: checkout -> stock reserved -> dispatch released to the courier (orders
  has not taken the release in yet) -> the customer cancels -> order cancelled, stock back,
  the courier drops the dispatch (its pending confirmation is stopped); the late release
  makes orders tell the courier once more, and the order stays cancelled.

The races are made deterministic by holding one event on its way (a test queue takes the
binding of the service's queue for a moment, then hands the held message over): the same
as a slow consumer. The sandbox courier's confirmation delay is longer than the cancel
takes, so a missed cancel would show as a confirmation.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import aiohttp
import asyncpg
import pytest
from aio_pika.abc import AbstractIncomingMessage

from shared.messaging import DISPATCH_EXCHANGE, EVENTS_EXCHANGE
from shared.messaging.topology import courier_routing_key
from tests.e2e.shopper import Profile
from tests.e2e.shopper import Shopper as BaseShopper
from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

CONFIRM_DELAY_S = 2.5  # the sandbox courier's auto-confirmation, longer than any cancel here
ADDRESS = {"city": "Шымкент", "street": "Тауке хана", "house": "12", "apartment": "3"}


@pytest.fixture(scope="module")
def shop(shop: Stack) -> Stack:
    """The module's shop (conftest) with the courier's confirmation slower than a cancel."""
    shop.courier.confirm_delay_s = CONFIRM_DELAY_S
    return shop


class Held:
    """Messages of one routing key held back from a service's queue until ``hand_over``."""

    def __init__(self, channel: aio_pika.abc.AbstractChannel, target: str, key: str) -> None:
        self.channel, self.target, self.key = channel, target, key
        self.messages: list[AbstractIncomingMessage] = []
        self._queue: aio_pika.abc.AbstractQueue | None = None

    async def start(self) -> None:
        self._queue = await self.channel.declare_queue(exclusive=True, auto_delete=True)
        await self._queue.bind(EVENTS_EXCHANGE, self.key)
        target = await self.channel.get_queue(self.target, ensure=False)
        await target.unbind(EVENTS_EXCHANGE, self.key)

    async def wait(self, within_s: float = 20) -> dict[str, Any]:
        """The body of the next held message."""
        assert self._queue is not None
        async with asyncio.timeout(within_s):
            while (message := await self._queue.get(no_ack=False, fail=False)) is None:
                await asyncio.sleep(0.05)
        self.messages.append(message)
        return dict(json.loads(message.body))

    async def hand_over(self) -> None:
        """Bind the service's queue again and give it what was held, as it was sent (safe to
        call twice)."""
        assert self._queue is not None
        queue = await self.channel.get_queue(self.target, ensure=False)
        await queue.bind(EVENTS_EXCHANGE, self.key)
        await self._queue.unbind(EVENTS_EXCHANGE, self.key)
        for message in self.messages:
            await self.channel.default_exchange.publish(
                aio_pika.Message(
                    body=message.body,
                    headers=message.headers,
                    content_type=message.content_type,
                    message_id=message.message_id,
                    correlation_id=message.correlation_id,
                    type=message.type,
                    delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                ),
                routing_key=self.target,
            )
            await message.ack()
        self.messages.clear()


@contextlib.asynccontextmanager
async def held(shop: Stack, target: str, key: str) -> AsyncIterator[Held]:
    connection = await aio_pika.connect_robust(shop.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        hold = Held(channel, target, key)
        await hold.start()
        try:
            yield hold
        finally:
            await hold.hand_over()  # never leave the shop without its binding


@contextlib.asynccontextmanager
async def courier_copy(shop: Stack) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A test's own copy of what goes to the sandbox courier's queue."""
    connection = await aio_pika.connect_robust(shop.amqp_url)
    async with connection:
        channel = await connection.channel()
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        await queue.bind(DISPATCH_EXCHANGE, courier_routing_key("sandbox"))
        yield queue


async def _cancels_sent(
    queue: aio_pika.abc.AbstractQueue, dispatch_id: str
) -> list[dict[str, Any]]:
    """The DispatchCancelled bodies for this dispatch that reached the courier's queue."""
    await asyncio.sleep(0.5)
    found = []
    while (message := await queue.get(no_ack=True, fail=False)) is not None:
        body = json.loads(message.body)
        if message.type == "courier.dispatch_cancelled" and body["dispatch_id"] == dispatch_id:
            found.append(body)
    return found


async def _dispatch_row(shop: Stack, dispatch_id: str) -> asyncpg.Record:
    conn = await asyncpg.connect(shop.dsns["orders"])
    try:
        row = await conn.fetchrow(
            "SELECT status, release_id, cancelled_at FROM dispatches WHERE id = $1",
            uuid.UUID(dispatch_id),
        )
    finally:
        await conn.close()
    assert row is not None
    return row


class Shopper(BaseShopper):
    profile = Profile("cancel", "Отменова", "Алия", "705", ADDRESS)

    async def order(self, order_id: str) -> dict[str, Any]:
        status, order = await self.call("GET", f"/api/orders/{order_id}")
        assert status == 200, order
        return dict(order)

    async def wait_until(self, order_id: str, check: Any, within_s: float = 20) -> dict[str, Any]:
        async with asyncio.timeout(within_s):
            while not check(order := await self.order(order_id)):
                await asyncio.sleep(0.1)
        return order

    async def cancel(self, order_id: str) -> tuple[int, Any]:
        return await self.call("POST", f"/api/orders/{order_id}/cancel")

    async def available(self, product_id: str) -> int:
        status, product = await self.call("GET", f"/api/catalog/products/{product_id}")
        assert status == 200
        return int(product["available"])

    async def wait_available(self, product_id: str, expected: int) -> None:
        async with asyncio.timeout(20):
            while await self.available(product_id) != expected:
                await asyncio.sleep(0.1)

    async def a_product(self, skip: int) -> str:
        _, page = await self.call("GET", "/api/catalog/products?limit=50")
        return str([p for p in page["items"] if p["in_stock"]][skip]["id"])


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _customers_knows_cancelled(shop: Stack, order_id: str) -> bool:
    conn = await asyncpg.connect(shop.dsns["customers"])
    try:
        return bool(
            await conn.fetchval(
                "SELECT true FROM cancelled_orders WHERE order_id = $1", uuid.UUID(order_id)
            )
        )
    finally:
        await conn.close()


async def _dispatch_refused(shop: Stack, dispatch_id: str) -> bool:
    """Customers refused the release (its outbox holds the refusal for this dispatch)."""
    conn = await asyncpg.connect(shop.dsns["customers"])
    try:
        bodies = await conn.fetch(
            "SELECT body FROM outbox WHERE message_type = 'customers.dispatch.refused'"
        )
        return any(dispatch_id in bytes(r["body"]).decode() for r in bodies)
    finally:
        await conn.close()


async def _courier_disclosures(shop: Stack, order_ref: str) -> int:
    conn = await asyncpg.connect(shop.dsns["customers"])
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM disclosures WHERE order_ref = $1 AND recipient LIKE 'courier:%'",
            order_ref,
        )
        return count
    finally:
        await conn.close()


async def _courier_record(shop: Stack, order_ref: str, within_s: float = 20) -> dict[str, Any]:
    async with asyncio.timeout(within_s):
        while True:
            record = next((d for d in shop.courier.received if d["order_ref"] == order_ref), None)
            if record is not None:
                return record
            await asyncio.sleep(0.05)


async def _never_confirmed(shop: Stack, record: dict[str, Any]) -> None:
    """Past the courier's confirmation delay, the dispatch is still cancelled, unconfirmed."""
    await asyncio.sleep(CONFIRM_DELAY_S + 0.5)
    assert record["status"] == "cancelled", record["status"]
    assert "callback_attempts" not in record and record["cancelled_at"]


async def test_a_paid_card_order_cancelled_is_refunded_and_never_delivered(shop: Stack) -> None:
    async with await _session() as session:
        shopper = Shopper(session, shop.gateway_url)
        await shopper.sign_up(1)
        product_id = await shopper.a_product(skip=4)
        before = await shopper.available(product_id)
        placed = await shopper.checkout(product_id, "card", quantity=2)
        order = await shopper.wait_until(placed["id"], lambda o: o["status"] == "awaiting_payment")
        assert await shopper.available(product_id) == before - 2
        await shop.bank.wait_for(order["payment"]["id"])

        # Customers is slow to take in this dispatch request: the cancel overtakes it.
        async with (
            courier_copy(shop) as copy,
            held(shop, "customers.events", "orders.dispatch.requested") as hold,
        ):
            async with session.post(order["payment_url"] + "/pay") as result:
                assert result.status == 200
            paid = await shopper.wait_until(placed["id"], lambda o: o["status"] == "paid")
            assert paid["payment"]["status"] == "succeeded"
            requested = await hold.wait()
            dispatch_id = requested["dispatch_id"]

            status, body = await shopper.cancel(placed["id"])
            assert (status, body["status"]) == (200, "cancelled")
            async with asyncio.timeout(20):
                while dispatch_id not in shop.courier.early_cancels:
                    await asyncio.sleep(0.05)
            # Customers has heard of the cancellation by now (OrderCancelled) ...
            async with asyncio.timeout(20):
                while not await _customers_knows_cancelled(shop, placed["id"]):
                    await asyncio.sleep(0.05)
            # ... so the late request releases nothing: no data goes to the courier.
            await hold.hand_over()
            async with asyncio.timeout(20):
                while not await _dispatch_refused(shop, dispatch_id):
                    await asyncio.sleep(0.1)
            cancels = await _cancels_sent(copy, dispatch_id)
        assert cancels == [
            {"dispatch_id": dispatch_id, "order_ref": order["order_ref"], "courier": "sandbox"}
        ]
        assert (await _dispatch_row(shop, dispatch_id))["status"] == "cancelled"
        assert shop.courier.find(dispatch_id) is None
        assert not await _courier_disclosures(shop, order["order_ref"])

        refunded = await shopper.wait_until(
            placed["id"], lambda o: o["payment"]["status"] == "refunded"
        )
        assert refunded["status"] == "cancelled"
        assert [(h["status"], h["cause"]) for h in refunded["history"]] == [
            ("placed", "checkout"),
            ("awaiting_payment", "stock_reserved"),
            ("paid", "payment_confirmed"),
            ("cancelled", "customer_cancelled"),
        ]
        refund = await shop.bank.wait_refund(order["payment"]["id"])
        assert refund["amount"] == order["total"]["amount"]
        await shopper.wait_available(product_id, before)

        assert (await shopper.order(placed["id"]))["status"] == "cancelled"
        # Cancelling again is harmless.
        assert (await shopper.cancel(placed["id"]))[0] == 200


async def test_a_cash_order_cancelled_after_its_release_is_dropped_by_the_courier(
    shop: Stack,
) -> None:
    async with await _session() as session:
        shopper = Shopper(session, shop.gateway_url)
        await shopper.sign_up(2)
        product_id = await shopper.a_product(skip=5)
        before = await shopper.available(product_id)

        # Orders is slow to take in the release: the courier already has the dispatch.
        async with (
            courier_copy(shop) as copy,
            held(shop, "orders.events", "customers.dispatch.released") as hold,
        ):
            placed = await shopper.checkout(product_id, "cash_on_delivery", quantity=3)
            released = await hold.wait()
            record = await _courier_record(shop, placed["order_ref"])
            assert record["dispatch_id"] == released["dispatch_id"]
            assert record["status"] == "confirming delivered"
            assert await shopper.available(product_id) == before - 3
            assert (await shopper.order(placed["id"]))["status"] == "placed"

            status, body = await shopper.cancel(placed["id"])
            assert (status, body["status"]) == (200, "cancelled")
            await shop.courier.wait_for_status(record["dispatch_id"], "cancelled", timeout=20)
            assert (await _dispatch_row(shop, record["dispatch_id"]))["release_id"] is None
            await hold.hand_over()
            # The release arrives for a cancelled order: the courier is told once more.
            async with asyncio.timeout(20):
                while (await _dispatch_row(shop, record["dispatch_id"]))["release_id"] is None:
                    await asyncio.sleep(0.1)
            cancels = await _cancels_sent(copy, record["dispatch_id"])
        assert [c["dispatch_id"] for c in cancels] == 2 * [record["dispatch_id"]]
        assert set(cancels[0]) == {"dispatch_id", "order_ref", "courier"}
        row = await _dispatch_row(shop, record["dispatch_id"])
        assert row["status"] == "cancelled" and str(row["release_id"]) == record["release_id"]
        order = await shopper.order(placed["id"])
        assert order["status"] == "cancelled"
        assert [(h["status"], h["cause"]) for h in order["history"]] == [
            ("placed", "checkout"),
            ("cancelled", "customer_cancelled"),
        ]
        assert order["payment"] == {"method": "cash_on_delivery"}
        await shopper.wait_available(product_id, before)
        await _never_confirmed(shop, record)
        assert (await shopper.order(placed["id"]))["status"] == "cancelled"
