"""The export through the whole shop (nginx, the four services, the stand-ins): a customer
with a delivered order, a cart, notifications, disclosures and a request exports each of
them from the service that holds it, with the audit trail of who used her data; the export
of one customer holds nothing of another; the readable page shows it in a real browser.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests.e2e.shopper import ApiClient
from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-sync"]
PASSWORD = "export flow password"
DETAIL = "Прошу пересмотреть отказ при оформлении заказа"


def person(tag: str, last: str, first: str, street: str, n: int) -> dict[str, Any]:
    return {
        "last_name": last,
        "first_name": first,
        "phone": f"+7 702 {n:03d} {uuid.uuid4().int % 10000:04d}",
        "email": f"{tag}-{uuid.uuid4().hex[:8]}@example.kz",
        "password": PASSWORD,
        "delivery_address": {"city": "Караганда", "street": street, "house": str(n)},
        "marketing": {"email": False, "sms": False},
        "locale": "ru",
    }


async def until(check: Callable[[], Awaitable[Any]], timeout: float = 30.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.2)
        return result


async def customer_with_history(
    shop: Stack, session: aiohttp.ClientSession, who: dict[str, Any], products: list[Any]
) -> dict[str, Any]:
    """Sign up, order two units of the first product (cash on delivery) and wait for its
    delivery and mail, leave the second product in the cart, file an objection."""
    client = ApiClient(session, shop.gateway_url)
    _, policy = await client.call("GET", "/api/customers/policy")
    status, body = await client.call(
        "POST",
        "/api/customers/register",
        json={**who, "accept_policy_version": policy["version"]},
    )
    assert status == 201, body
    status, tokens = await client.call(
        "POST", "/api/customers/login", json={"login": who["email"], "password": PASSWORD}
    )
    assert status == 200, tokens
    client.token = tokens["access_token"]
    ordered, kept = products
    status, _ = await client.call(
        "POST", "/api/orders/cart/items", json={"product_id": ordered["id"], "quantity": 2}
    )
    assert status == 200
    status, order = await client.call(
        "POST",
        "/api/orders/checkout",
        json={"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}},
        headers={"Idempotency-Key": str(uuid.uuid4())},
    )
    assert status == 201, order
    status, _ = await client.call(
        "POST", "/api/orders/cart/items", json={"product_id": kept["id"], "quantity": 3}
    )
    assert status == 200
    status, filed = await client.call(
        "POST", "/api/customers/me/requests", json={"kind": "objection", "detail": DETAIL}
    )
    assert status == 201, filed

    async def exported_with_delivery_mail() -> dict[str, Any] | None:
        status, export = await client.call("GET", "/api/customers/me/export")
        assert status == 200, export
        kinds = {(n["kind"], n.get("order_ref")) for n in export["notifications"]}
        return export if ("order_delivered", order["order_ref"]) in kinds else None

    export = await until(exported_with_delivery_mail, timeout=45)
    return {"who": who, "order": order, "export": export, "client": client, "products": products}


@pytest.fixture(scope="module")
async def customers(shop: Stack) -> AsyncIterator[dict[str, dict[str, Any]]]:
    async with aiohttp.ClientSession() as anonymous:
        status, page = await ApiClient(anonymous, shop.gateway_url).call(
            "GET", "/api/catalog/products?limit=50"
        )
        assert status == 200
        stocked = [p for p in page["items"] if p["in_stock"]]
        assert len(stocked) >= 4
    jars = [aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) for _ in range(2)]
    try:
        a, b = await asyncio.gather(
            customer_with_history(
                shop, jars[0], person("saule", "Абенова", "Сауле", "Бухар жырау", 11), stocked[:2]
            ),
            customer_with_history(
                shop, jars[1], person("viktor", "Ким", "Виктор", "Ерубаева", 22), stocked[2:4]
            ),
        )
        yield {"a": a, "b": b}
    finally:
        for jar in jars:
            await jar.close()


async def test_the_export_holds_what_every_service_keeps(customers: dict[str, Any]) -> None:
    a = customers["a"]
    export, order, (ordered, kept) = a["export"], a["order"], a["products"]
    assert export["complete"] is True and "notes" not in export
    assert {
        *("profile", "consents", "disclosures", "orders", "cart", "notifications", "requests"),
        *("sessions", "audit"),
    } <= set(export)
    # customers: the profile and its consents
    assert export["profile"]["email"] == a["who"]["email"]
    assert export["profile"]["last_name"] == "Абенова" and export["profile"]["policy_version"]
    assert export["consents"][0]["kind"] == "pd_processing"
    # orders: lines, every status, the dispatch; the cart
    [exported] = export["orders"]
    assert exported["order_ref"] == order["order_ref"] and exported["status"] == "delivered"
    assert [(i["product_id"], i["name"], i["quantity"]) for i in exported["items"]] == [
        (ordered["id"], ordered["name"], 2)
    ]
    assert [h["status"] for h in exported["history"]] == ["placed", "dispatched", "delivered"]
    assert exported["dispatch"]["status"] == "delivered"
    assert [(c["product_id"], c["name"], c["quantity"]) for c in export["cart"]] == [
        (kept["id"], kept["name"], 3)
    ]
    # customers: the disclosures that the orders and notifications sections point at
    courier = [d for d in export["disclosures"] if d["recipient"] == "courier:sandbox"]
    assert [d["order_ref"] for d in courier] == [order["order_ref"]]
    assert exported["dispatch"]["release_id"] == courier[0]["release_id"]
    released = {d["release_id"] for d in export["disclosures"]}
    # notifications: the delivery log, each mail with the release of the address it used
    kinds = [n["kind"] for n in export["notifications"]]
    assert {"welcome", "order_dispatched", "order_delivered"} <= set(kinds)
    assert all(n["release_id"] in released for n in export["notifications"])
    assert "@" not in json.dumps(export["notifications"])
    # customers: the request with her own words, her sign-in
    [request] = [r for r in export["requests"] if r["kind"] == "objection"]
    assert request["status"] == "received" and request["detail"] == DETAIL and request["due"]
    assert [s["kind"] for s in export["sessions"]] == ["app"] and export["sessions"][0]["live"]
    assert "token" not in json.dumps(export["sessions"])


async def test_the_audit_trail_says_who_used_her_data_for_what(customers: dict[str, Any]) -> None:
    trail = customers["a"]["export"]["audit"]
    uses = {(e["actor"]["kind"], e["actor"].get("name"), e["action"], e["purpose"]) for e in trail}
    assert ("you", None, "write", "identification") in uses  # registration
    assert ("you", None, "read", "identification") in uses  # this export's own read
    assert ("system", "dispatch", "read", "delivery") in uses  # the courier's projection
    assert ("service", "notifications", "read", "service_communication") in uses
    delivery = next(e for e in trail if e["purpose"] == "delivery")
    assert set(delivery["fields"]) >= {"phone", "delivery_address"}
    assert [e["at"] for e in trail] == sorted(e["at"] for e in trail)
    # Actors are kinds, names of services, roles: no id of anyone.
    assert not re.search(r"[0-9a-f]{8}-[0-9a-f]{4}-", json.dumps([e["actor"] for e in trail]))


async def test_one_customers_export_holds_nothing_of_another(customers: dict[str, Any]) -> None:
    a, b = customers["a"], customers["b"]
    text = json.dumps(a["export"], ensure_ascii=False)
    theirs = b["export"]
    for value in (
        *(b["who"]["email"], b["who"]["last_name"], b["who"]["first_name"]),
        *(b["who"]["delivery_address"]["street"], b["order"]["id"], b["order"]["order_ref"]),
        *(theirs["profile"]["id"], b["products"][1]["id"]),
        *(d["release_id"] for d in theirs["disclosures"]),
    ):
        assert value not in text, value
    # and the other way round: B's export is B's
    assert theirs["profile"]["email"] == b["who"]["email"]
    assert a["who"]["email"] not in json.dumps(theirs) and a["order"]["id"] not in json.dumps(
        theirs
    )


@pytest.mark.browser
@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium binary at {CHROMIUM}")
async def test_the_export_page_reads_in_a_browser(shop: Stack, customers: dict[str, Any]) -> None:
    from playwright.async_api import async_playwright, expect

    a = customers["a"]
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            context = await browser.new_context(
                locale="ru-RU", viewport={"width": 1100, "height": 900}
            )
            page = await context.new_page()
            problems: list[str] = []
            page.on("console", lambda message: problems.append(message.text))
            await page.goto(f"{shop.gateway_url}/account/signin")
            await page.get_by_label(re.compile(r"^Email или телефон")).fill(a["who"]["email"])
            await page.get_by_label(re.compile(r"^Пароль")).fill(PASSWORD)
            await page.get_by_role("button", name="Войти").click()
            await page.get_by_role("link", name="Всё, что хранится обо мне").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "Всё, что хранится обо мне"
            )
            for heading in ("Заказы", "Корзина", "Уведомления", "Кто пользовался моими данными"):
                await expect(page.get_by_role("heading", name=heading, level=2)).to_be_visible()
            order = page.locator("details.order summary")
            await expect(order).to_contain_text(a["order"]["order_ref"])
            await expect(order).to_contain_text("доставлен")
            await order.click()
            ordered, kept = a["products"]
            await expect(page.locator("details.order")).to_contain_text(ordered["name"])
            await expect(page.locator("#cart + .table-wrap")).to_contain_text(kept["name"])
            audit = page.get_by_role("region", name="Кто пользовался моими данными")
            await expect(audit).to_contain_text("автоматическая задача: передача заказа курьеру")
            await expect(audit).to_contain_text("доставка заказа")
            await page.screenshot(path=str(SCREENSHOTS / "account-export-ru.png"), full_page=True)
            await page.get_by_role("link", name="Қазақша").click()
            await expect(page.get_by_role("heading", level=1)).to_have_text(
                "Мен туралы сақталғанның бәрі"
            )
            await expect(page.locator("details.order summary")).to_contain_text("жеткізілді")
            async with page.expect_download() as download_info:
                await page.get_by_role("link", name="Жүктеу (JSON)").click()
            download = await download_info.value
            assert download.suggested_filename == "my-data.json"
            assert not [p for p in problems if "Content Security Policy" in p], problems
            await context.close()
        finally:
            await browser.close()
