"""Card payments through the whole shop behind nginx, with the sandbox bank and courier.

checkout (card) -> stock reserved -> payment requested of the bank (exact fields) ->
payment_url -> the bank's page: Pay -> signed callback through the gateway -> paid ->
dispatch (no cash on delivery) -> courier -> delivered, each step mailed to the customer (the
payment mail links the bank's page). Declined and expired payments
cancel the order and catalog returns the stock. Fifty shoppers race for the last ten units.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aiohttp
import asyncpg
import pytest

from services.notifications.domain import format_tenge
from tests.e2e.shopper import Profile
from tests.e2e.shopper import Shopper as BaseShopper
from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

BANK_FIELDS = {"payment_id", "order_ref", "amount", "currency", "description", "return_url"}
ADDRESS = {"city": "Астана", "street": "Кенесары", "house": "40", "apartment": "7"}
SUCCESS = {"awaiting_payment", "paid", "dispatched", "delivered"}


class Shopper(BaseShopper):
    profile = Profile("card", "Картова", "Дана", "702", ADDRESS)

    async def wait_status(
        self, order_id: str, statuses: set[str], within_s: float = 20
    ) -> dict[str, Any]:
        async with asyncio.timeout(within_s):
            while True:
                status, order = await self.call("GET", f"/api/orders/{order_id}")
                assert status == 200, order
                if order["status"] in statuses:
                    return dict(order)
                await asyncio.sleep(0.1)


async def _session() -> aiohttp.ClientSession:
    return aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))


async def _available(shopper: Shopper, product_id: str) -> int:
    status, product = await shopper.call("GET", f"/api/catalog/products/{product_id}")
    assert status == 200
    return int(product["available"])


async def _a_product(shopper: Shopper, skip: int = 0) -> str:
    _, page = await shopper.call("GET", "/api/catalog/products?limit=50")
    products = [p for p in page["items"] if p["in_stock"]]
    return str(products[skip]["id"])


async def _wait_available(shopper: Shopper, product_id: str, expected: int) -> None:
    async with asyncio.timeout(20):
        while await _available(shopper, product_id) != expected:
            await asyncio.sleep(0.1)


async def test_a_card_order_is_paid_on_the_bank_page_and_delivered(shop: Stack) -> None:
    async with await _session() as session:
        shopper = Shopper(session, shop.gateway_url)
        await shopper.sign_up(1)
        product_id = await _a_product(shopper)
        placed = await shopper.checkout(product_id, "card", quantity=2)
        order = await shopper.wait_status(placed["id"], {"awaiting_payment"})
        payment_id = order["payment"]["id"]
        assert order["payment_url"] == f"{shop.bank.public_url}/pay/{payment_id}"

        received = await shop.bank.wait_for(payment_id)
        assert set(received["request"]) == BANK_FIELDS
        assert received["request"]["order_ref"] == order["order_ref"]
        assert received["request"]["amount"] == order["total"]["amount"]
        assert received["request"]["description"] == f"Заказ {order['order_ref']}"
        assert order["items"][0]["name"] not in json.dumps(received["request"], ensure_ascii=False)

        async with session.get(order["payment_url"]) as page:
            html = await page.text()
            assert page.status == 200 and "Pay" in html and "Decline" in html
        async with session.post(order["payment_url"] + "/pay") as result:
            assert result.status == 200
            assert "answered 200" in await result.text()

        delivered = await shopper.wait_status(order["id"], {"delivered"})
        assert [h["status"] for h in delivered["history"]] == [
            "placed", "awaiting_payment", "paid", "dispatched", "delivered",
        ]  # fmt: skip
        assert delivered["payment"]["status"] == "succeeded"
        assert delivered["payment_url"] is None
        dispatch = next(d for d in shop.courier.received if d["order_ref"] == order["order_ref"])
        assert dispatch["cash_on_delivery"] is None
        assert dispatch["parcel"]["count"] == 2
        await _each_status_was_mailed(shop, shopper, order)


async def _each_status_was_mailed(shop: Stack, shopper: Shopper, order: dict[str, Any]) -> None:
    """One mail per step, in the customer's language; the payment mail links the bank's page."""
    ref = order["order_ref"]
    subjects = [
        "Добро пожаловать в наш магазин",
        f"Заказ {ref} оформлен",
        f"Оплатите заказ {ref}",
        f"Заказ {ref} оплачен",
        f"Заказ {ref} передан в доставку",
        f"Заказ {ref} доставлен",
    ]
    for subject in subjects:
        await shop.sink.wait_for(
            lambda m, s=subject: shopper.email in m.rcpt_tos and m.subject == s, timeout=20
        )
    mine = {m.subject: m for m in shop.sink.messages if shopper.email in m.rcpt_tos}
    assert sorted(mine) == sorted(subjects)  # and nothing twice
    assert len([m for m in shop.sink.messages if shopper.email in m.rcpt_tos]) == len(subjects)
    pay = mine[f"Оплатите заказ {ref}"].body()
    assert f"Оплатить на странице банка: {order['payment_url']}" in pay
    [link] = [line for line in pay.splitlines() if line.startswith("Заказ на сайте: ")]
    assert link.endswith(f"/orders/{order['id']}")
    assert f"Сумма к оплате: {format_tenge(order['total']['amount'])}" in pay
    assert pay.startswith(f"Здравствуйте, {Shopper.profile.first_name}!")


async def test_a_declined_card_order_is_cancelled_and_stock_returns(shop: Stack) -> None:
    async with await _session() as session:
        shopper = Shopper(session, shop.gateway_url)
        await shopper.sign_up(2)
        product_id = await _a_product(shopper, skip=1)
        before = await _available(shopper, product_id)
        placed = await shopper.checkout(product_id, "card", quantity=3)
        order = await shopper.wait_status(placed["id"], {"awaiting_payment"})
        assert await _available(shopper, product_id) == before - 3
        await shop.bank.wait_for(order["payment"]["id"])
        async with session.post(order["payment_url"] + "/decline") as result:
            assert result.status == 200
        cancelled = await shopper.wait_status(order["id"], {"cancelled"})
        assert cancelled["history"][-1]["cause"] == "payment_declined"
        await _wait_available(shopper, product_id, before)


async def test_an_unpaid_order_expires_and_stock_returns(shop: Stack) -> None:
    async with await _session() as session:
        shopper = Shopper(session, shop.gateway_url)
        await shopper.sign_up(3)
        product_id = await _a_product(shopper, skip=2)
        before = await _available(shopper, product_id)
        placed = await shopper.checkout(product_id, "card")
        await shopper.wait_status(placed["id"], {"awaiting_payment"})
        # The payment window (PAYMENT_TIMEOUT_S) closes: moved into the past here.
        conn = await asyncpg.connect(shop.dsns["orders"])
        try:
            await conn.execute(
                "UPDATE payments SET expires_at = now() - interval '1 second' WHERE order_id = $1",
                uuid.UUID(placed["id"]),
            )
        finally:
            await conn.close()
        expired = await shopper.wait_status(placed["id"], {"cancelled"})
        assert expired["history"][-1]["cause"] == "payment_expired"
        await _wait_available(shopper, product_id, before)


async def test_fifty_shoppers_race_for_the_last_ten_units(shop: Stack) -> None:
    async with await _session() as session:
        probe = Shopper(session, shop.gateway_url)
        product_id = await _a_product(probe, skip=3)
    conn = await asyncpg.connect(shop.dsns["catalog"])
    try:
        await conn.execute("UPDATE products SET stock = 10 WHERE id = $1", uuid.UUID(product_id))
    finally:
        await conn.close()

    sessions = [await _session() for _ in range(50)]
    try:
        shoppers = [Shopper(s, shop.gateway_url) for s in sessions]
        limit = asyncio.Semaphore(8)

        async def sign_up(n: int) -> None:
            async with limit:
                await shoppers[n].sign_up(100 + n)

        await asyncio.gather(*(sign_up(n) for n in range(50)))
        for shopper in shoppers:
            status, _ = await shopper.call(
                "POST", "/api/orders/cart/items", json={"product_id": product_id, "quantity": 1}
            )
            assert status == 200

        async def checkout(n: int) -> dict[str, Any]:
            status, order = await shoppers[n].call(
                "POST",
                "/api/orders/checkout",
                json={
                    "delivery": {"courier": "sandbox"},
                    "payment": {"method": "card" if n % 2 else "cash_on_delivery"},
                },
                headers={"Idempotency-Key": str(uuid.uuid4())},
            )
            assert status == 201, order
            return dict(order)

        seen_available: list[int] = []

        async def watch_stock(stop: asyncio.Event) -> None:
            while not stop.is_set():
                seen_available.append(await _available(shoppers[0], product_id))
                await asyncio.sleep(0.05)

        stop = asyncio.Event()
        watcher = asyncio.create_task(watch_stock(stop))
        placed = await asyncio.gather(*(checkout(n) for n in range(50)))
        finals = await asyncio.gather(
            *(
                shoppers[n].wait_status(placed[n]["id"], {*SUCCESS, "cancelled"}, within_s=60)
                for n in range(50)
            )
        )
        stop.set()
        await watcher
    finally:
        for s in sessions:
            await s.close()
    statuses = [f["status"] for f in finals]
    assert sum(s in SUCCESS for s in statuses) == 10, statuses
    assert statuses.count("cancelled") == 40
    assert all(f["history"][-1]["cause"] == "stock_rejected" for f in finals
               if f["status"] == "cancelled")  # fmt: skip
    assert min(seen_available) >= 0
    async with await _session() as session:
        assert await _available(Shopper(session, shop.gateway_url), product_id) == 0
