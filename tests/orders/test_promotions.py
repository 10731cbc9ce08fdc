"""Checkout at a promotion's price, against the real catalog: the cart shows the promoted
price beside the regular one, checkout charges it, and the order keeps it after the
promotion is over."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aiohttp
import pytest

from services.catalog.app import create_app as create_catalog
from services.catalog.config import Settings as CatalogSettings
from shared.auth import TokenIssuer
from shared.service import running_app
from tests.conftest import MakeDatabase
from tests.orders.conftest import INTERNAL_TOKEN, FakeCatalog, Orders


@pytest.fixture
def amqp_url(fresh_vhost: str) -> str:
    """A vhost of this test's own: the real catalog answers the orders' events."""
    return fresh_vhost


@pytest.fixture
async def catalog(
    make_database: MakeDatabase, amqp_url: str, signing_keys: tuple[str, str]
) -> AsyncIterator[tuple[FakeCatalog, str]]:
    """The real catalog in place of the fake one (left empty) of the other orders tests."""
    settings = CatalogSettings(
        database_url=await make_database("catalog"),
        amqp_url=amqp_url,
        jwt_public_key=signing_keys[1],
        internal_token=INTERNAL_TOKEN,
    )
    async with running_app(create_catalog(settings)) as url:
        yield FakeCatalog(), url


class Staff:
    def __init__(self, http: aiohttp.ClientSession, url: str, issuer: TokenIssuer) -> None:
        self.http, self.url = http, url
        roles = frozenset({"catalog_manager", "marketer"})
        self.headers = {"Authorization": f"Bearer {issuer.issue(uuid4(), 'staff', roles)}"}

    async def send(self, method: str, path: str, body: dict[str, Any]) -> dict[str, Any]:
        async with self.http.request(
            method, self.url + path, json=body, headers=self.headers
        ) as response:
            assert response.status in (200, 201), await response.text()
            return dict(await response.json())

    async def product(self, name: str, price: int) -> UUID:
        body = {
            "sku": f"SKU-{uuid4().hex[:8]}",
            "name": name,
            "category": "vitamins",
            "price": {"amount": price, "currency": "KZT"},
            "weight_g": 100,
            "stock": 10,
        }
        return UUID((await self.send("POST", "/api/catalog/products", body))["id"])


@pytest.fixture
async def staff(
    catalog: tuple[FakeCatalog, str], token_issuer: TokenIssuer
) -> AsyncIterator[Staff]:
    async with aiohttp.ClientSession() as http:
        staff = Staff(http, catalog[1], token_issuer)
        await staff.send(
            "POST", "/api/catalog/categories", {"slug": "vitamins", "name": "Витамины"}
        )
        yield staff


def money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "KZT"}


async def test_checkout_charges_the_promoted_price_and_the_order_keeps_it(
    orders: Orders, staff: Staff
) -> None:
    promoted = await staff.product("Витамин C", 150_000)
    regular = await staff.product("Витамин D", 20_000)
    promotion = await staff.send(
        "POST",
        "/api/catalog/promotions",
        {
            "name": "Неделя витамина C",
            "discount": {"percent": 20},
            "product_ids": [str(promoted)],
            "starts_at": (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
            "ends_at": (datetime.now(UTC) + timedelta(days=1)).isoformat(),
        },
    )
    customer = uuid4()
    await orders.add_item(promoted, 2, orders.auth(customer))
    status, cart, _ = await orders.add_item(regular, 1, orders.auth(customer))
    assert status == 200, cart
    by_product = {item["product_id"]: item for item in cart["items"]}
    assert by_product[str(promoted)]["price"] == money(120_000)
    assert by_product[str(promoted)]["regular_price"] == money(150_000)
    assert by_product[str(promoted)]["line_total"] == money(240_000)
    assert "regular_price" not in by_product[str(regular)]
    assert cart["total"] == money(260_000)

    status, placed, _ = await orders.checkout(customer)
    assert status == 201, placed
    await staff.send("PATCH", f"/api/catalog/promotions/{promotion['id']}", {"status": "ended"})

    order = await orders.order(customer, placed["id"])
    assert order["total"] == money(260_000)
    lines = {item["product_id"]: item for item in order["items"]}
    assert lines[str(promoted)]["unit_price"] == money(120_000)
    assert lines[str(promoted)]["regular_price"] == money(150_000)
    assert lines[str(promoted)]["promotion_id"] == promotion["id"]
    assert "regular_price" not in lines[str(regular)]
    # The promotion is over: the next cart pays the regular price.
    status, cart, _ = await orders.add_item(promoted, 1, orders.auth(customer))
    assert cart["items"][0]["price"] == money(150_000) and "regular_price" not in cart["items"][0]
