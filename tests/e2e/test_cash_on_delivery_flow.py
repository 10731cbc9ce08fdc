"""The walking skeleton: a cash-on-delivery order from storefront to courier, through nginx.

register -> login -> browse -> cookie cart -> checkout -> stock reserved -> dispatch released
by customers -> courier receives exactly the contract's fields -> signed delivery callback ->
order delivered -> email released at send time. Then: the customer sees the release and
exports everything; no personal data is anywhere it must not be.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import aio_pika
import aiohttp
import asyncpg
import pytest

from shared.messaging import DISPATCH_EXCHANGE, declare_exchanges
from shared.messaging.topology import courier_routing_key
from tests.e2e.stack import Stack, dead_letters

pytestmark = pytest.mark.asyncio(loop_scope="session")

CUSTOMER = {
    "last_name": "Сейткалиева",
    "first_name": "Айгерим",
    "patronymic": "Нурлановна",
    "phone": "+7 701 555 12 34",
    "email": "aigerim.canary@example.kz",
    "password": "correct horse battery",
    "delivery_address": {
        "city": "Алматы",
        "street": "проспект Абылай хана",
        "house": "58А",
        "apartment": "112",
        "postal_code": "050004",
        "comment": "домофон Жетысу-вечер",
    },
    "marketing": {"email": False, "sms": False},
    "locale": "ru",
}
PHONE_E164 = "+77015551234"
# Every value that identifies her; none may appear outside the customers vault.
PD_VALUES = [
    "Сейткалиева",
    "Айгерим",
    "Нурлановна",
    PHONE_E164,
    "7015551234",
    "701 555 12 34",
    "aigerim.canary@example.kz",
    "aigerim.canary",
    "проспект Абылай хана",
    "домофон Жетысу-вечер",
]
DISPATCH_FIELDS = {
    "dispatch_id",
    "order_ref",
    "courier",
    "parcel",
    "cash_on_delivery",
    "recipient",
    "address",
    "release_id",
}


class Client:
    """A storefront visitor: one cookie jar, an optional bearer token."""

    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base, self.token = session, base, ""

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any, str]:
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.request(
            method, self.base + path, headers=headers, **kwargs
        ) as response:
            text = await response.text()
            body = json.loads(text) if text and "json" in response.content_type else None
            return response.status, body, response.content_type


async def until(check, timeout: float = 20.0, interval: float = 0.1):
    async with asyncio.timeout(timeout):
        while True:
            result = await check()
            if result:
                return result
            await asyncio.sleep(interval)


@pytest.fixture(scope="module")
async def dispatch_tap(shop: Stack):
    """A test's own queue on the dispatch exchange: what the courier gets, byte for byte."""
    connection = await aio_pika.connect_robust(shop.amqp_url)
    channel = await connection.channel()
    await declare_exchanges(channel)
    queue = await channel.declare_queue(f"tap.{uuid.uuid4()}", exclusive=True)
    await queue.bind(DISPATCH_EXCHANGE, courier_routing_key("sandbox"))
    yield queue
    await connection.close()


@pytest.fixture(scope="module")
async def delivered_order(shop: Stack, dispatch_tap) -> dict[str, Any]:
    """Run the whole flow once; later tests look at what it left behind."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        shopper = Client(session, shop.gateway_url)

        status, policy, _ = await shopper.call("GET", "/api/customers/policy")
        assert status == 200 and policy["version"]
        status, created, _ = await shopper.call(
            "POST",
            "/api/customers/register",
            json={**CUSTOMER, "accept_policy_version": policy["version"]},
        )
        assert status == 201, created
        status, tokens, _ = await shopper.call(
            "POST",
            "/api/customers/login",
            json={"login": CUSTOMER["email"], "password": CUSTOMER["password"]},
        )
        assert status == 200 and tokens["token_type"].lower() == "bearer"
        assert tokens["expires_in"] > 0

        status, page, _ = await shopper.call("GET", "/api/catalog/products?limit=50")
        assert status == 200 and len(page["items"]) >= 10
        product = next(p for p in page["items"] if p["in_stock"])
        status, detail, _ = await shopper.call("GET", f"/api/catalog/products/{product['id']}")
        available_before = detail["available"]

        # Anonymous cart by cookie first, then joined to the account on sign-in.
        status, _, _ = await shopper.call(
            "POST", "/api/orders/cart/items", json={"product_id": product["id"], "quantity": 2}
        )
        assert status in (200, 201)
        assert any(c.key == "cart_id" for c in session.cookie_jar)
        shopper.token = tokens["access_token"]
        status, cart, _ = await shopper.call("GET", "/api/orders/cart")
        assert status == 200
        assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(product["id"], 2)]
        assert cart["total"]["amount"] == 2 * product["price"]["amount"]

        checkout_body = {
            "delivery": {"courier": "sandbox"},
            "payment": {"method": "cash_on_delivery"},
        }
        key = {"Idempotency-Key": str(uuid.uuid4())}
        status, order, _ = await shopper.call(
            "POST", "/api/orders/checkout", json=checkout_body, headers=key
        )
        assert status == 201, order
        assert order["status"] == "placed"
        # A retry of the same request is the same order, not a second one.
        status, again, _ = await shopper.call(
            "POST", "/api/orders/checkout", json=checkout_body, headers=key
        )
        assert status == 200 and again["id"] == order["id"]

        async def delivered():
            status, body, _ = await shopper.call("GET", f"/api/orders/{order['id']}")
            return body if status == 200 and body["status"] == "delivered" else None

        final = await until(delivered, timeout=30)
        raw = await dispatch_tap.get(timeout=5)
        welcome = await shop.sink.wait_for(
            lambda m: CUSTOMER["email"] in m.to and "Айгерим" in m.body(), timeout=15
        )
        mail = await shop.sink.wait_for(
            lambda m: CUSTOMER["email"] in m.to and final["order_ref"] in m.body(), timeout=15
        )
        _, product_after, _ = await shopper.call("GET", f"/api/catalog/products/{product['id']}")
        _, disclosures, _ = await shopper.call("GET", "/api/customers/me/disclosures")
        _, export, _ = await shopper.call("GET", "/api/customers/me/export")
        return {
            "order": final,
            "product": product,
            "available_before": available_before,
            "available_after": product_after["available"],
            "dispatch": json.loads(raw.body),
            "dispatch_raw": raw.body.decode(),
            "mail": mail,
            "welcome": welcome,
            "disclosures": disclosures,
            "export": export,
            "token": tokens["access_token"],
        }


async def test_the_order_goes_through_every_status_to_delivered(delivered_order):
    order = delivered_order["order"]
    assert order["status"] == "delivered"
    assert [h["status"] for h in order["history"]] == ["placed", "dispatched", "delivered"]
    assert order["total"] == {
        "amount": 2 * delivered_order["product"]["price"]["amount"],
        "currency": "KZT",
    }
    assert [(i["product_id"], i["quantity"]) for i in order["items"]] == [
        (delivered_order["product"]["id"], 2)
    ]
    # The units left stock for good once reserved.
    assert delivered_order["available_after"] == delivered_order["available_before"] - 2


async def test_the_courier_gets_exactly_the_contract_fields(delivered_order, shop: Stack):
    dispatch = delivered_order["dispatch"]
    assert set(dispatch) == DISPATCH_FIELDS
    assert set(dispatch["recipient"]) == {"name", "phone"}
    assert set(dispatch["address"]) == {
        "city",
        "street",
        "house",
        "apartment",
        "postal_code",
        "comment",
    }
    assert set(dispatch["parcel"]) == {"count", "weight_g"}
    assert dispatch["recipient"] == {"name": "Айгерим Сейткалиева", "phone": PHONE_E164}
    assert dispatch["address"]["street"] == CUSTOMER["delivery_address"]["street"]
    assert dispatch["order_ref"] == delivered_order["order"]["order_ref"]
    assert dispatch["parcel"]["count"] == 2
    assert dispatch["cash_on_delivery"] == delivered_order["order"]["total"]
    raw = delivered_order["dispatch_raw"]
    for secret in (
        CUSTOMER["email"],
        CUSTOMER["patronymic"],
        delivered_order["product"]["name"],
        delivered_order["product"]["sku"],
    ):
        assert secret not in raw
    customer_id = delivered_order["export"]["profile"].get("id")
    assert customer_id and customer_id not in raw
    # The sandbox courier saw the same and confirmed it.
    seen = shop.courier.find(dispatch["dispatch_id"])
    assert seen is not None and seen["release_id"] == dispatch["release_id"]


async def test_the_customer_is_welcomed_and_told_of_delivery_in_her_language(delivered_order):
    assert "Здравствуйте, Айгерим" in delivered_order["welcome"].body()
    mail = delivered_order["mail"]
    assert mail.rcpt_tos == (CUSTOMER["email"],)
    assert "Айгерим" in mail.body()
    assert "₸" in mail.body()


async def test_the_customer_sees_who_received_her_data(delivered_order):
    items = delivered_order["disclosures"]["items"]
    courier = [i for i in items if i["recipient"] == "courier:sandbox"]
    assert len(courier) == 1
    assert courier[0]["purpose"] == "delivery"
    assert courier[0]["order_ref"] == delivered_order["order"]["order_ref"]
    assert set(courier[0]["fields"]) == {"recipient_name", "phone", "delivery_address"}
    assert courier[0]["at"]
    mail = [i for i in items if i["purpose"] == "service_communication"]
    assert mail and all(set(i["fields"]) <= {"email", "first_name"} for i in mail)


async def test_the_export_holds_every_section_with_the_order(delivered_order):
    export = delivered_order["export"]
    assert {"profile", "consents", "disclosures", "orders", "notifications"} <= set(export)
    assert export["profile"]["email"] == CUSTOMER["email"]
    assert [o["id"] for o in export["orders"]] == [delivered_order["order"]["id"]]
    assert any(
        n.get("order_ref") == delivered_order["order"]["order_ref"] for n in export["notifications"]
    )


async def all_rows_as_text(dsn: str) -> str:
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT schemaname, tablename FROM pg_tables WHERE schemaname = 'public'"
        )
        chunks = []
        for table in tables:
            rows = await conn.fetch(
                f'SELECT t::text AS row FROM "{table["schemaname"]}"."{table["tablename"]}" t'
            )
            chunks.extend(r["row"] for r in rows)
            # bytea columns print as hex in ::text; decode them too.
            for column in await conn.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = $1 AND data_type = 'bytea'",
                table["tablename"],
            ):
                for value in await conn.fetch(
                    f'SELECT "{column["column_name"]}" AS v FROM "{table["tablename"]}"'
                ):
                    if value["v"]:
                        chunks.append(bytes(value["v"]).decode("utf-8", "replace"))
        return "\n".join(chunks)
    finally:
        await conn.close()


async def test_pd_canary_appears_nowhere_it_must_not(delivered_order, shop: Stack, shop_logs):
    for service in ("catalog", "orders", "notifications"):
        dump = await all_rows_as_text(shop.dsns[service])
        leaked = [v for v in PD_VALUES if v in dump]
        assert not leaked, f"{service} database holds {leaked}"
    customers_dump = await all_rows_as_text(shop.dsns["customers"])
    assert "Сейткалиева" not in customers_dump and CUSTOMER["email"] not in customers_dump
    assert not [v for v in PD_VALUES if v in customers_dump], "plaintext PD in customers db"

    logs = [json.loads(line) for line in shop_logs.getvalue().splitlines()]
    events = {line["event"]: line for line in logs}
    # The services did log the flow (so the search below means something) ...
    assert {"customer registered", "stock reserved", "dispatch released"} <= set(events)
    # ... with one trace from the checkout through catalog and customers ...
    assert events["stock reserved"]["trace_id"] == events["dispatch released"]["trace_id"]
    # ... and without a trace of her.
    text = shop_logs.getvalue()
    assert not [v for v in PD_VALUES if v in text]
    access_log = shop.gateway.access_log.read_text()
    assert "/api/orders/checkout" in access_log
    assert not [v for v in PD_VALUES if v in access_log]


async def test_no_dead_letters_and_no_pd_parked(delivered_order, shop: Stack, servers):
    dead = dead_letters(shop, servers)
    assert dead and all(count == 0 for count in dead.values()), dead
