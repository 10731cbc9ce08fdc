"""The storefront in a real browser (Debian's Chromium driven by Playwright) through nginx,
a client of the public API only: browse a category, search, add to the cart anonymously,
sign up on the account pages and come back, check out cash on delivery (the courier's
callback delivers it) and by card on the sandbox bank's page, back on the order page; the
cookies-off page, the language switch, and the statistics beacon silent under Do Not Track.
Screenshots go to var/screenshots/ (SCREENSHOT_DIR)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg
import pytest

from tests.e2e.stack import Stack, staff
from tests.e2e.test_account_pages import ARGS, CHROMIUM, field, fill_signup

ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", ROOT / "var" / "screenshots"))
SHOP_TUNING = {"sandbox_courier": {"auto_confirm": False}}  # the test delivers by hand
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium binary at {CHROMIUM}"),
]

if Path(CHROMIUM).exists():
    from playwright.async_api import Browser, BrowserContext, Page, Route, async_playwright, expect

    expect.set_options(timeout=15_000)  # a page waits on the services, which run in this process


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def new_page(browser: Browser, **options: Any) -> tuple[BrowserContext, Page, list[str]]:
    """A fresh browser profile; its console messages are collected (CSP violations show)."""
    options.setdefault("locale", "ru-RU")
    options.setdefault("viewport", {"width": 1100, "height": 900})
    context = await browser.new_context(**options)
    page = await context.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    page.on("pageerror", lambda error: console.append(f"page error: {error}"))
    return context, page, console


async def shot(page: Page, name: str, *, full_page: bool = True) -> None:
    await page.screenshot(path=str(SCREENSHOTS / f"storefront-{name}.png"), full_page=full_page)


def no_policy_violations(console: list[str]) -> None:
    bad = [m for m in console if "Content Security Policy" in m or "Trusted Type" in m]
    assert not bad and not [m for m in console if m.startswith("page error")], console


async def add_to_cart(page: Page, base: str, product_name: str, quantity: int = 1) -> None:
    await page.goto(f"{base}/?q={product_name.split()[0]}")
    await page.get_by_role("link", name=product_name).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text(product_name)
    await page.get_by_label("Количество").fill(str(quantity))
    await page.get_by_role("button", name="В корзину").click()
    await expect(page.get_by_role("status")).to_have_text(f"«{product_name}» в корзине.")


async def dispatch_of(shop: Stack, order_ref: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while True:
            for dispatch in shop.courier.received:
                if dispatch["order_ref"] == order_ref:
                    return dispatch
            await asyncio.sleep(0.1)


async def order_ref_on(page: Page) -> str:
    heading = page.get_by_role("heading", level=1)
    await expect(heading).to_have_text(re.compile(r"^Заказ \S+$"))
    return (await heading.inner_text()).removeprefix("Заказ ")


async def test_browse_search_sign_up_and_check_out_cash_and_card(
    shop: Stack, chromium: Browser
) -> None:
    context, page, console = await new_page(chromium)
    base = shop.gateway_url

    response = await page.goto(f"{base}/")
    assert response is not None and response.status == 200
    csp = (await response.all_headers())["content-security-policy"]
    assert "script-src 'self'" in csp and "unsafe-inline" not in csp
    await expect(page.get_by_role("heading", level=1)).to_have_text("Все товары")
    await expect(page.locator(".products > li").first).to_be_visible()
    await expect(page.get_by_role("navigation", name="Категории")).to_be_visible()
    await shot(page, "catalog-ru")

    await page.get_by_role("link", name=re.compile("^Витамины и минералы")).click()
    await page.wait_for_url("**/?category=vitamins")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Витамины и минералы")
    await expect(page.get_by_role("link", name="Витамин D3 2000 МЕ, 60 капсул")).to_be_visible()
    await expect(page.get_by_role("link", name="Парацетамол 500 мг, 20 таблеток")).to_have_count(0)

    await page.get_by_label("Поиск по каталогу").fill("парацетамол")
    await page.keyboard.press("Enter")
    await page.wait_for_url("**/?q=*")
    await expect(page.get_by_role("heading", level=1)).to_have_text(
        "Результаты поиска «парацетамол»"
    )
    await expect(page.locator(".products > li")).to_have_count(1)
    await shot(page, "search-ru")

    # Anonymous: the cart is the API's cookie cart; the product page adds two.
    await add_to_cart(page, base, "Парацетамол 500 мг, 20 таблеток", quantity=2)
    await shot(page, "product-ru")
    assert any(c["name"] == "cart_id" for c in await context.cookies())
    await page.get_by_role("link", name=re.compile("^Корзина")).click()
    await page.wait_for_url("**/cart")
    await expect(page.get_by_role("cell", name="2", exact=True)).to_be_visible()

    # Sign up on the account pages, which send the browser back to the cart, signed in.
    await page.get_by_role("main").get_by_role("link", name="Регистрация").click()
    await page.wait_for_url("**/account/signup?next=%2Fcart*")
    await fill_signup(page)
    await page.get_by_label("Я прочитал(а) Политику конфиденциальности").check()
    await page.get_by_role("button", name="Зарегистрироваться").click()
    await page.wait_for_url(f"{base}/cart")
    await expect(page.get_by_role("heading", name="Оформление заказа")).to_be_visible()
    await expect(page.get_by_text("Доставим по адресу: Алматы, проспект Абая, 10.")).to_be_visible()
    row = page.get_by_role("row", name=re.compile("Парацетамол"))
    await expect(row.get_by_role("cell").first).to_have_text("2")  # the anonymous cart, merged
    await shot(page, "cart-signed-in-ru")

    # Cash on delivery: the order page follows it until the courier's callback.
    await expect(page.get_by_label("Наличными курьеру")).to_be_checked()
    await page.get_by_role("button", name="Оформить заказ").click()
    await page.wait_for_url(re.compile(rf"/orders/{UUID}$"))
    ref = await order_ref_on(page)
    dispatch = await dispatch_of(shop, ref)
    assert dispatch["cash_on_delivery"]["amount"] == 2 * 25_000
    await expect(page.locator("#order-status")).to_have_text("Передан курьеру", timeout=20_000)
    shop.courier.confirm(dispatch["dispatch_id"], "delivered")
    await expect(page.locator("#order-status")).to_have_text("Доставлен", timeout=20_000)
    history = page.locator(".history > li strong")
    await expect(history).to_have_text(["Оформлен", "Передан курьеру", "Доставлен"])
    await shot(page, "order-delivered-ru")

    # Card: checkout sends the browser to the bank's page; the bank sends it back here.
    await add_to_cart(page, base, "Витамин D3 2000 МЕ, 60 капсул")
    await page.goto(f"{base}/cart")
    await page.get_by_label("Картой онлайн (страница банка)").check()
    await page.get_by_role("button", name="Оформить заказ").click()
    await page.wait_for_url(f"{shop.bank.public_url}/pay/**")
    await expect(page.get_by_text("2650.00 KZT")).to_be_visible()
    await page.get_by_role("button", name="Pay").click()
    await page.get_by_role("link", name="Back to the shop").click()
    await page.wait_for_url(re.compile(rf"{re.escape(base)}/orders/{UUID}$"))
    card_order = page.url.rsplit("/", 1)[-1]
    card_ref = await order_ref_on(page)
    await expect(page.locator("#order-status")).to_have_text("Передан курьеру", timeout=20_000)
    shop.courier.confirm((await dispatch_of(shop, card_ref))["dispatch_id"], "delivered")
    await expect(page.locator("#order-status")).to_have_text("Доставлен", timeout=20_000)
    await expect(history).to_have_text(
        ["Оформлен", "Ожидает оплаты", "Оплачен", "Передан курьеру", "Доставлен"]
    )
    await expect(page.get_by_text("Картой онлайн (страница банка) — оплачено")).to_be_visible()
    await shot(page, "order-card-ru")

    await page.get_by_role("link", name="Мои заказы").first.click()
    await expect(page.get_by_role("link", name=ref)).to_be_visible()
    await expect(page.get_by_role("link", name=card_ref)).to_be_visible()

    # The old return path shows the same page; signing out ends the account pages' too.
    await page.goto(f"{base}/account/orders/{card_order}")
    await expect(page.get_by_role("heading", level=1)).to_have_text(f"Заказ {card_ref}")
    await page.get_by_role("button", name="Выйти").click()
    await page.wait_for_url(f"{base}/")
    await expect(page.get_by_role("link", name="Войти")).to_be_visible()
    await page.goto(f"{base}/account/profile")
    await page.wait_for_url("**/account/signin")
    no_policy_violations(console)
    await context.close()


async def test_with_cookies_off_the_cart_says_so(shop: Stack, chromium: Browser) -> None:
    context, page, console = await new_page(chromium)

    async def without_cookies(route: Route) -> None:  # as a browser that refuses them
        response = await route.fetch()
        await context.clear_cookies()  # route.fetch keeps what the answer sets
        headers = {k: v for k, v in response.headers.items() if k.lower() != "set-cookie"}
        await route.fulfill(response=response, headers=headers)

    await context.route("**/api/orders/**", without_cookies)
    await page.goto(f"{shop.gateway_url}/?q=Цитрамон")
    await page.get_by_role("button", name="В корзину").click()
    await page.wait_for_url("**/cookies")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Корзине нужны cookie")
    await expect(page.get_by_text("cart_id", exact=False).first).to_be_visible()
    await shot(page, "cookies-off-ru")
    no_policy_violations(console)
    await context.close()


async def test_the_language_switch_is_remembered(shop: Stack, chromium: Browser) -> None:
    phone = {"width": 390, "height": 844}  # a phone's screen
    context, page, console = await new_page(chromium, viewport=phone, is_mobile=True)
    await page.goto(f"{shop.gateway_url}/")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Все товары")
    await page.get_by_role("button", name="Қазақша").click()
    await expect(page.locator("html")).to_have_attribute("lang", "kk")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Барлық тауарлар")
    await expect(page.get_by_role("button", name="Себетке").first).to_be_visible()
    await shot(page, "catalog-kk-phone", full_page=False)
    await page.get_by_role("button", name="English").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("All products")
    await page.get_by_role("link", name=re.compile("^Cart")).click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Cart")
    await expect(page.get_by_text("The cart is empty.")).to_be_visible()
    signin = page.get_by_role("link", name="Sign in")
    assert (await signin.get_attribute("href")) == "/account/signin?next=%2Fcart&lang=en"
    await signin.click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Sign in")
    await expect(field(page, "Email or phone")).to_be_visible()
    no_policy_violations(console)
    await context.close()


async def hits(shop: Stack, path: str) -> int:
    conn = await asyncpg.connect(shop.dsns["catalog"])
    try:
        total = await conn.fetchval("SELECT count(*) FROM stats_hits WHERE path = $1", path)
    finally:
        await conn.close()
    return int(total or 0)


async def product_path(page: Page, base: str, name: str) -> str:
    await page.goto(f"{base}/?q={name.split()[0]}")
    href = await page.get_by_role("link", name=name).get_attribute("href")
    assert href and re.fullmatch(rf"/products/{UUID}", href)
    return href


async def test_the_beacon_counts_a_view_and_nothing_under_do_not_track(
    shop: Stack, chromium: Browser
) -> None:
    base = shop.gateway_url
    context, page, console = await new_page(chromium)
    counted = await product_path(page, base, "Смекта, 10 пакетиков")
    quiet = await product_path(page, base, "Ибупрофен 200 мг, 50 таблеток")
    async with page.expect_request("**/api/stats/hits") as sent:
        await page.goto(base + counted + "?utm=ivan@example.kz")
    request = await sent.value
    assert request.post_data_json == {"path": counted}  # no query, no referrer of ours
    assert "cookie" not in await request.all_headers()
    async with asyncio.timeout(10):
        while await hits(shop, counted) < 1:
            await asyncio.sleep(0.1)
    await context.close()

    context, page, console = await new_page(chromium, extra_http_headers={"DNT": "1"})
    await context.add_init_script(
        "Object.defineProperty(navigator, 'doNotTrack', {get: () => '1'})"
    )
    beacons: list[str] = []
    page.on("request", lambda r: beacons.append(r.url) if "/api/stats/" in r.url else None)
    await page.goto(base + quiet)
    await expect(page.get_by_role("heading", level=1)).to_have_text("Ибупрофен 200 мг, 50 таблеток")
    await page.wait_for_load_state("networkidle")
    assert beacons == []
    assert await hits(shop, quiet) == 0
    no_policy_violations(console)
    await context.close()


async def test_a_promoted_price_shows_the_regular_one_struck_through(
    shop: Stack, chromium: Browser
) -> None:
    async with aiohttp.ClientSession() as session:
        marketer = staff(session, shop, "marketer")
        _, found = await marketer.call("GET", "/api/catalog/products?q=ZINC-25-30")
        [product] = found["items"]
        now = datetime.now(UTC)
        status, promotion = await marketer.call(
            "POST",
            "/api/catalog/promotions",
            json={
                "name": "Цинк со скидкой",
                "discount": {"percent": 25},
                "product_ids": [product["id"]],
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(days=1)).isoformat(),
            },
        )
        assert status == 201 and promotion["status"] == "live", promotion
    context, page, console = await new_page(chromium)
    await page.goto(f"{shop.gateway_url}/products/{product['id']}")
    price = page.locator("article .price")
    await expect(price.locator("del")).to_have_text(re.compile(r"^890\s?₸$"))
    await expect(price.locator("strong")).to_have_text(re.compile(r"^667,50\s?₸$"))
    await expect(price).to_contain_text("Цена по акции:")  # read out, not only seen
    await shot(page, "product-promoted-ru")
    no_policy_violations(console)
    await context.close()
