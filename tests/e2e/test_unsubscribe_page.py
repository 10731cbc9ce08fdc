"""The unsubscribe link in a real browser (Chromium) through nginx: the confirmation page
changes nothing, its button unsubscribes once, nothing on the page breaks its CSP."""

from __future__ import annotations

import json
import uuid
from pathlib import Path

import asyncpg

from services.notifications.unsubscribe_links import Unsubscribe, make_token, unsubscribe_url
from tests.e2e import test_account_pages as account_pages
from tests.e2e.stack import Stack

# The account pages' browser: the same Chromium, the same skip when it is not installed.
pytestmark = account_pages.pytestmark
chromium = account_pages.chromium

if Path(account_pages.CHROMIUM).exists():
    from playwright.async_api import Browser, expect


async def unsubscribed(shop: Stack) -> list[dict[str, object]]:
    conn = await asyncpg.connect(shop.dsns["notifications"])
    try:
        rows = await conn.fetch(
            "SELECT body FROM outbox WHERE message_type = 'notifications.marketing.unsubscribed'"
        )
    finally:
        await conn.close()
    return [json.loads(bytes(row["body"])) for row in rows]


def link(shop: Stack, target: Unsubscribe) -> str:
    assert shop.shop is not None
    secrets = shop.shop.secrets
    token = make_token(secrets.read(secrets.unsubscribe_secret), target, days=30)
    return unsubscribe_url(shop.gateway_url, token)


async def test_the_page_asks_then_its_button_unsubscribes(shop: Stack, chromium: Browser) -> None:
    target = Unsubscribe(uuid.uuid4(), "email", uuid.uuid4())
    context = await chromium.new_context(locale="kk-KZ")
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text))
    page.on("requestfailed", lambda request: problems.append(request.url))

    response = await page.goto(link(shop, target))
    assert response is not None and response.status == 200
    headers = await response.all_headers()
    assert "default-src 'none'" in headers["content-security-policy"]
    assert headers["referrer-policy"] == "no-referrer"
    await expect(page.locator("html")).to_have_attribute("lang", "kk")
    await expect(page.get_by_role("heading")).to_have_text("Таратылымнан бас тарту")
    await page.reload()  # opening the link again, as a mail scanner would, changes nothing
    assert await unsubscribed(shop) == []

    await page.get_by_role("button", name="Бас тарту").click()
    await expect(page.get_by_role("heading")).to_have_text("Сіз бас тарттыңыз")
    assert page.url.startswith(f"{shop.gateway_url}/api/notifications/unsubscribe?token=")
    assert await context.cookies() == []
    [event] = await unsubscribed(shop)
    assert (event["customer_id"], event["via"]) == (str(target.customer_id), "page")

    await page.go_back()
    await page.get_by_role("button", name="Бас тарту").click()
    await expect(page.get_by_role("heading")).to_have_text("Сіз бас тарттыңыз")
    assert len(await unsubscribed(shop)) == 1  # the same link twice: one withdrawal
    assert problems == []
    await context.close()


async def test_a_forged_link_shows_a_page_that_quotes_nothing(
    shop: Stack, chromium: Browser
) -> None:
    target = Unsubscribe(uuid.uuid4(), "sms", None)
    forged = make_token("not-the-shops-secret-0123456789abcdef", target, days=30)
    context = await chromium.new_context(locale="en-US")
    page = await context.new_page()
    response = await page.goto(unsubscribe_url(shop.gateway_url, forged))
    assert response is not None and response.status == 400
    await expect(page.get_by_role("heading")).to_have_text("This link does not work")
    content = await page.content()
    assert forged not in content and str(target.customer_id) not in content
    assert await page.get_by_role("button").count() == 0
    await context.close()
