"""Fixtures of the orders tests: the app on real PostgreSQL and RabbitMQ, a fake catalog.

The fake catalog serves only ``/internal/products`` (the catalog is written concurrently);
the end-to-end suite runs against the real one.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import aiohttp
import pytest
from aiohttp import web

from services.orders.app import create_app
from services.orders.config import Settings
from shared.auth import TokenIssuer
from shared.contracts import Contract, DispatchReleased
from shared.messaging import DISPATCH_EXCHANGE, EVENTS_EXCHANGE, encode_message
from shared.messaging.topology import courier_routing_key
from shared.service import running_app
from tests.conftest import MakeDatabase

INTERNAL_TOKEN = "internal-test-token"
COURIER_SECRET = "sandbox-courier-secret"
BANK_SECRET = "sandbox-bank-secret"
BANK_PUBLIC_URL = "http://bank.test"


@dataclass
class FakeCatalog:
    products: dict[UUID, dict[str, Any]] = field(default_factory=dict)
    calls: int = 0
    # Run once inside the next price lookup: something a shopper does while it is answered.
    during_next_call: Callable[[], Awaitable[object]] | None = None

    def add(self, name: str, price: int, weight_g: int = 100) -> UUID:
        product_id = uuid4()
        self.products[product_id] = {
            "id": str(product_id),
            "sku": f"SKU-{len(self.products) + 1:03d}",
            "name": name,
            "price": {"amount": price, "currency": "KZT"},
            "weight_g": weight_g,
            "in_stock": 10,
        }
        return product_id

    async def handle(self, request: web.Request) -> web.Response:
        self.calls += 1
        if (during := self.during_next_call) is not None:
            self.during_next_call = None
            await during()
        if request.headers.get("X-Internal-Token") != INTERNAL_TOKEN:
            return web.json_response({"title": "Forbidden"}, status=403)
        ids = [UUID(raw) for raw in request.query.get("ids", "").split(",") if raw]
        items = [self.products[i] for i in ids if i in self.products]
        return web.json_response({"items": items})


@pytest.fixture
async def catalog() -> AsyncIterator[tuple[FakeCatalog, str]]:
    fake = FakeCatalog()
    app = web.Application()
    app.router.add_get("/internal/products", fake.handle)
    async with running_app(app) as url:
        yield fake, url


@dataclass
class Orders:
    url: str
    dsn: str
    settings: Settings
    http: aiohttp.ClientSession
    amqp: aio_pika.abc.AbstractRobustConnection
    catalog: FakeCatalog
    issuer: TokenIssuer

    def auth(self, customer_id: UUID) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.issuer.issue(customer_id, 'customer')}"}

    async def call(
        self,
        method: str,
        path: str,
        *,
        json_body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        async with self.http.request(
            method, self.url + path, json=json_body, headers=headers or {}
        ) as response:
            text = await response.text()
            data = json.loads(text) if text else None
            return response.status, data, response

    async def add_item(
        self, product_id: UUID, quantity: int, headers: dict[str, str]
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        body = {"product_id": str(product_id), "quantity": quantity}
        return await self.call("POST", "/api/orders/cart/items", json_body=body, headers=headers)

    async def checkout(
        self,
        customer_id: UUID,
        key: str | None = None,
        method: str = "cash_on_delivery",
        courier: str = "sandbox",
        extra_headers: dict[str, str] | None = None,
    ) -> tuple[int, Any, aiohttp.ClientResponse]:
        headers = {**self.auth(customer_id), **(extra_headers or {})}
        headers["Idempotency-Key"] = key or str(uuid4())
        body = {"delivery": {"courier": courier}, "payment": {"method": method}}
        return await self.call("POST", "/api/orders/checkout", json_body=body, headers=headers)

    async def order(self, customer_id: UUID, order_id: str) -> dict[str, Any]:
        status, data, _ = await self.call(
            "GET", f"/api/orders/{order_id}", headers=self.auth(customer_id)
        )
        assert status == 200, data
        return dict(data)

    async def wait_status(
        self, customer_id: UUID, order_id: str, status: str, timeout: float = 10
    ) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            order = await self.order(customer_id, order_id)
            if order["status"] == status:
                return order
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"order stayed {order['status']}, expected {status}")
            await asyncio.sleep(0.05)

    async def publish(self, event: Contract, message_id: UUID | None = None) -> UUID:
        """Publish ``event`` on shop.events as a service's relay would; its message id."""
        message_id = message_id or uuid4()
        channel = await self.amqp.channel(publisher_confirms=True)
        try:
            exchange = await channel.get_exchange(EVENTS_EXCHANGE)
            message = encode_message(
                event.model_dump_json().encode(),
                message_id=message_id,
                message_type=event.MESSAGE_TYPE,
                correlation_id=None,
                traceparent=None,
            )
            await exchange.publish(message, routing_key=event.MESSAGE_TYPE)
        finally:
            await channel.close()
        return message_id

    async def release_dispatch(self, requested: dict[str, Any], order_id: str) -> None:
        """Answer a DispatchRequested as the customers service does once it released."""
        await self.publish(
            DispatchReleased(
                dispatch_id=requested["dispatch_id"],
                order_id=order_id,
                release_id=uuid4(),
                courier="sandbox",
            )
        )

    async def placed_order(
        self, customer_id: UUID, method: str = "cash_on_delivery", quantity: int = 2
    ) -> dict[str, Any]:
        product = self.catalog.add("Vitamin C", 150_000, weight_g=300)
        status, _, _ = await self.add_item(product, quantity, self.auth(customer_id))
        assert status == 200
        status, data, _ = await self.checkout(customer_id, method=method)
        assert status == 201, data
        return dict(data)


@pytest.fixture
def orders_overrides() -> dict[str, Any]:
    """Settings a test changes (parametrize ``orders_overrides`` to set them)."""
    return {}


@pytest.fixture
async def orders(
    orders_overrides: dict[str, Any],
    make_database: MakeDatabase,
    amqp_url: str,
    signing_keys: tuple[str, str],
    token_issuer: TokenIssuer,
    catalog: tuple[FakeCatalog, str],
) -> AsyncIterator[Orders]:
    fake, catalog_url = catalog
    dsn = await make_database("orders")
    defaults: dict[str, Any] = {
        "courier_secrets": {"sandbox": COURIER_SECRET},
        "bank_secrets": {"sandbox": BANK_SECRET},
        "bank_public_url": BANK_PUBLIC_URL,
        "maintenance_interval_s": 0.1,
        "retry_delays_ms": (100,),
    }
    settings = Settings(
        database_url=dsn,
        amqp_url=amqp_url,
        jwt_public_key=signing_keys[1],
        internal_token=INTERNAL_TOKEN,
        catalog_url=catalog_url,
        couriers=("sandbox",),
        **{**defaults, **orders_overrides},
    )
    amqp = await aio_pika.connect_robust(amqp_url)
    async with (
        running_app(create_app(settings)) as url,
        aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http,
    ):
        yield Orders(url, dsn, settings, http, amqp, fake, token_issuer)
    await amqp.close()


class EventTap:
    """A private queue bound to some routing keys of ``shop.events``, to watch what is sent."""

    def __init__(self, queue: aio_pika.abc.AbstractQueue) -> None:
        self._queue = queue

    async def next(self, message_type: str, timeout: float = 10) -> dict[str, Any]:
        deadline = asyncio.get_running_loop().time() + timeout
        while asyncio.get_running_loop().time() < deadline:
            message = await self._queue.get(no_ack=True, fail=False)
            if message is None:
                await asyncio.sleep(0.05)
                continue
            if message.type == message_type:
                return dict(json.loads(message.body))
        raise AssertionError(f"no {message_type} message arrived")

    async def types(self, wait_s: float = 0.5) -> list[str]:
        await asyncio.sleep(wait_s)
        seen: list[str] = []
        while (message := await self._queue.get(no_ack=True, fail=False)) is not None:
            seen.append(message.type or "")
        return seen


@pytest.fixture
async def tap(orders: Orders) -> AsyncIterator[Callable[..., Awaitable[EventTap]]]:
    channel = await orders.amqp.channel()

    async def make(*routing_keys: str) -> EventTap:
        queue = await channel.declare_queue(exclusive=True, auto_delete=True)
        for key in routing_keys:
            await queue.bind(EVENTS_EXCHANGE, key)
        return EventTap(queue)

    yield make
    await channel.close()


@pytest.fixture
async def courier_tap(orders: Orders) -> AsyncIterator[EventTap]:
    """What the sandbox courier's queue gets on ``shop.dispatch`` (``courier.sandbox``)."""
    channel = await orders.amqp.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(DISPATCH_EXCHANGE, courier_routing_key("sandbox"))
    yield EventTap(queue)
    await channel.close()
