"""Fixtures of the catalog tests: a migrated database, a running app, tokens, events."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from uuid import UUID, uuid4

import aiohttp
import asyncpg
import pytest

from services.catalog.app import create_app
from services.catalog.config import Settings
from shared.auth import TokenIssuer
from shared.contracts import Contract, Money, OrderLine, OrderPlaced
from shared.db import PG_POOL
from shared.messaging import IncomingMeta
from shared.service import running_app
from tests.catalog.places import write_places

ROOT = Path(__file__).resolve().parents[2]
INTERNAL_TOKEN = "internal-test-token"


@dataclass
class Catalog:
    """A running catalog: its base URL, an HTTP session and its database pool."""

    url: str
    http: aiohttp.ClientSession
    pool: asyncpg.Pool
    settings: Settings

    async def add_category(self, slug: str, name: str) -> None:
        await self.pool.execute(
            "INSERT INTO categories (id, slug, name) VALUES ($1, $2, $3)", uuid4(), slug, name
        )

    async def add_product(
        self, name: str, *, stock: int = 10, category: str = "misc", weight_g: int = 100
    ) -> UUID:
        product_id = uuid4()
        await self.pool.execute(
            "INSERT INTO products (id, sku, name, description, category_id, price, weight_g,"
            " stock) SELECT $1, $2, $3, '', id, 50000, $4, $5 FROM categories WHERE slug = $6",
            product_id,
            f"SKU-{product_id.hex[:12]}",
            name,
            weight_g,
            stock,
            category,
        )
        return product_id

    async def stock(self, product_id: UUID) -> int:
        value: int = await self.pool.fetchval(
            "SELECT stock FROM products WHERE id = $1", product_id
        )
        return value


@pytest.fixture(scope="session")
def places_database(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The tests' City database (tests/catalog/places.py)."""
    return write_places(tmp_path_factory.mktemp("places") / "places.mmdb")


@pytest.fixture
def make_settings(signing_keys: tuple[str, str], places_database: Path) -> Callable[..., Settings]:
    def make(dsn: str, amqp_url: str, **tuning: Any) -> Settings:
        return Settings(
            database_url=dsn,
            amqp_url=amqp_url,
            jwt_public_key=signing_keys[1],
            internal_token=INTERNAL_TOKEN,
            retry_delays_ms=(50, 100),
            geoip_database=places_database,
            **tuning,
        )

    return make


async def _run(settings: Settings) -> AsyncIterator[Catalog]:
    app = create_app(settings)
    async with running_app(app) as url, aiohttp.ClientSession() as http:
        catalog = Catalog(url=url, http=http, pool=app[PG_POOL], settings=settings)
        await catalog.add_category("misc", "Разное")
        yield catalog


@pytest.fixture
async def catalog(make_database, amqp_url: str, make_settings) -> AsyncIterator[Catalog]:
    """A catalog on the run's shared vhost: for tests that send no messages."""
    dsn = await make_database("catalog")
    async for running in _run(make_settings(dsn, amqp_url)):
        yield running


@pytest.fixture
async def catalog_mq(make_database, fresh_vhost: str, make_settings) -> AsyncIterator[Catalog]:
    """A catalog on a vhost of its own: for tests that publish and count messages."""
    dsn = await make_database("catalog")
    async for running in _run(make_settings(dsn, fresh_vhost)):
        yield running


MakeCatalog = Callable[..., AbstractAsyncContextManager[Catalog]]


@pytest.fixture
def make_catalog(make_database, amqp_url: str, make_settings) -> MakeCatalog:
    """A catalog with settings tuned over the tests' (``async with make_catalog(**tuning)``)."""

    @asynccontextmanager
    async def make(**tuning: Any) -> AsyncIterator[Catalog]:
        dsn = await make_database("catalog")
        async for running in _run(make_settings(dsn, amqp_url, **tuning)):
            yield running

    return make


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def staff_headers(token_issuer: TokenIssuer) -> dict[str, str]:
    return bearer(token_issuer.issue(uuid4(), "staff", frozenset({"catalog_manager"})))


@pytest.fixture
def analyst_headers(token_issuer: TokenIssuer) -> dict[str, str]:
    return bearer(token_issuer.issue(uuid4(), "staff", frozenset({"analyst"})))


@pytest.fixture
def customer_headers(token_issuer: TokenIssuer) -> dict[str, str]:
    return bearer(token_issuer.issue(uuid4(), "customer"))


def order_placed(*lines: tuple[UUID, int], order_id: UUID | None = None) -> OrderPlaced:
    return OrderPlaced(
        order_id=order_id or uuid4(),
        order_ref=f"R-{uuid4().hex[:8]}",
        customer_id=uuid4(),
        lines=tuple(OrderLine(product_id=pid, quantity=qty) for pid, qty in lines),
        payment_method="cash_on_delivery",
        courier="sandbox",
        total=Money(amount=100_000),
    )


def meta_for(event: Contract) -> IncomingMeta:
    """What the consumer hands a handler, for tests that call handlers directly."""
    return IncomingMeta(
        message_id=uuid4(),
        message_type=event.MESSAGE_TYPE,
        body=event,
        correlation_id=None,
        traceparent=None,
        attempt=0,
    )
