"""The marketer's campaign page in a real browser (Debian's Chromium driven by Playwright):
the page holds no data until the marketer's token is pasted; then it shows the progress,
refreshes itself and pauses and resumes the campaign, under a CSP that allows no script but
its own (a violation would be reported on the console)."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.notifications.campaign_shop import CampaignShop
from tests.notifications.test_campaigns import sign_up_many

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
        "--disable-background-networking", "--disable-component-update"]  # fmt: skip
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"no Chromium binary at {CHROMIUM}"),
]

if Path(CHROMIUM).exists():
    from playwright.async_api import Browser, async_playwright, expect


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


async def test_the_page_shows_progress_and_pauses_and_resumes(
    shop: CampaignShop, chromium: Browser
) -> None:
    consented = await sign_up_many(shop, consented=8, not_consented=0)
    shop.sink.gate.clear()  # the first message waits at the mail server until the pause
    url = await shop.start(campaign_concurrency=1, campaign_batch_size=2)
    created = await shop.create()
    page_url = f"{url}/api/notifications/campaigns/{created['id']}/page"

    status, html = await shop.call("GET", page_url.removeprefix(url))
    assert status == 200 and created["id"] not in html and "Зимняя" not in html

    page = await chromium.new_page()
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    await page.goto(page_url)
    await expect(page.locator("#progress")).to_be_hidden()
    await page.get_by_label("Токен доступа маркетолога (Bearer)").fill(shop.marketer())
    await page.get_by_role("button", name="Показать").click()

    await expect(page.locator("#promotion")).to_have_text("Зимняя аптечка")
    await expect(page.locator("#audience")).to_have_text(str(len(consented)))
    await expect(page.locator("#status")).to_have_text("running", timeout=10_000)
    await page.get_by_role("button", name="Пауза").click()
    await expect(page.locator("#status")).to_have_text("paused")
    await expect(page.get_by_role("button", name="Пауза")).to_be_disabled()
    shop.sink.gate.set()
    await shop.wait_idle(created["id"])
    sent = (await shop.campaign(created["id"]))["sent"]
    await expect(page.locator("#sent")).to_have_text(str(sent))  # refreshed by itself

    await page.get_by_role("button", name="Продолжить").click()
    await expect(page.locator("#status")).to_have_text("completed", timeout=20_000)
    await expect(page.locator("#sent")).to_have_text(str(len(consented)))
    assert await page.locator("#bar").get_attribute("value") == str(len(consented))
    assert 1 <= sent < len(consented)
    assert not [text for text in console if "Content Security Policy" in text], console
    await page.close()


async def test_a_customer_token_gets_nothing_on_the_page(
    shop: CampaignShop, chromium: Browser
) -> None:
    customer = await shop.sign_up(1, email=True)
    url = await shop.start()
    created = await shop.create(scheduled_at="2099-01-01T00:00:00+00:00")
    page = await chromium.new_page()
    await page.goto(f"{url}/api/notifications/campaigns/{created['id']}/page")
    await page.get_by_label("Токен доступа маркетолога (Bearer)").fill(customer.token)
    await page.get_by_role("button", name="Показать").click()
    await expect(page.locator("#message")).to_contain_text("Forbidden")
    await expect(page.locator("#progress")).to_be_hidden()
    await page.close()
