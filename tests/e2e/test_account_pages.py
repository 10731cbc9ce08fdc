"""The account pages in a real browser (Debian's Chromium driven by Playwright) through nginx:
sign up, sign out and in, edit the phone, see the change, switch language."""

from __future__ import annotations

import os
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.e2e.stack import Stack

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = Path(os.environ.get("SCREENSHOT_DIR", "/tmp"))
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(),
        reason=f"no Chromium binary at {CHROMIUM} (apt-get install chromium, or set CHROMIUM_PATH)",
    ),
]

if Path(CHROMIUM).exists():
    from playwright.async_api import Browser, Locator, Page, async_playwright, expect


@pytest.fixture
async def chromium() -> AsyncIterator[Browser]:
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            await browser.close()


def field(page: Page, label: str) -> Locator:
    """The input whose <label> says exactly this (an accessibility check on the way)."""
    return page.get_by_label(re.compile(rf"^{re.escape(label)}( \*)?$"))


async def fill_signup(page: Page) -> None:
    await field(page, "Фамилия").fill("Сапарова")
    await field(page, "Имя").fill("Дана")
    await field(page, "Телефон").fill("+7 701 555 66 77")
    await field(page, "Email").fill("dana.browser@example.kz")
    await field(page, "Пароль").fill("browser test pass")
    await field(page, "Город").fill("Алматы")
    await field(page, "Улица").fill("проспект Абая")
    await field(page, "Дом").fill("10")
    await field(page, "Индекс (по желанию)").fill("050000")


async def test_sign_up_sign_in_edit_phone_switch_language(shop: Stack, chromium: Browser) -> None:
    context = await chromium.new_context(locale="ru-RU", viewport={"width": 1100, "height": 900})
    page = await context.new_page()
    problems: list[str] = []
    page.on("console", lambda message: problems.append(message.text))
    base = shop.gateway_url

    response = await page.goto(f"{base}/account/signup")
    assert response is not None and response.status == 200
    headers = await response.all_headers()
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert headers["x-frame-options"] == "DENY" and headers["cache-control"] == "no-store"
    await expect(page).to_have_title("Регистрация · Личный кабинет")
    await expect(page.locator("html")).to_have_attribute("lang", "ru")
    await expect(page.get_by_label("Присылать акции и предложения на email")).not_to_be_checked()
    await expect(page.get_by_label("Присылать акции и предложения по SMS")).not_to_be_checked()
    await expect(page.get_by_text("2026-11-01").first).to_be_visible()
    await fill_signup(page)
    await page.screenshot(path=str(SCREENSHOTS / "account-signup-ru.png"), full_page=True)
    await page.get_by_label("Я прочитал(а) Политику конфиденциальности").check()
    await page.get_by_role("button", name="Зарегистрироваться").click()

    await page.wait_for_url("**/account/profile")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Мои данные")
    await expect(page.locator("#v-phone")).to_have_text("+77015556677")

    await page.get_by_role("button", name="Выйти").click()
    await page.wait_for_url("**/account/signin?signed_out=1")
    await field(page, "Email или телефон").fill("dana.browser@example.kz")
    await field(page, "Пароль").fill("browser test pass")
    await page.get_by_role("button", name="Войти").click()
    await page.wait_for_url("**/account/profile")

    await page.get_by_role("link", name="Изменить данные").click()
    await page.wait_for_url("**/account/profile/edit")
    await field(page, "Телефон").fill("8 (707) 111-22-33")
    await page.get_by_role("button", name="Сохранить").click()
    await page.wait_for_url("**/account/profile?saved=1")
    await expect(page.get_by_role("status")).to_have_text("Изменения сохранены.")
    await expect(page.locator("#v-phone")).to_have_text("+77071112233")
    await page.screenshot(path=str(SCREENSHOTS / "account-profile-ru.png"), full_page=True)

    await page.get_by_role("link", name="Қазақша").click()
    await expect(page.locator("html")).to_have_attribute("lang", "kk")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Менің деректерім")
    await expect(page.locator("#v-phone")).to_have_text("+77071112233")
    await page.screenshot(path=str(SCREENSHOTS / "account-profile-kk.png"), full_page=True)
    await page.get_by_role("link", name="Келісімдер").click()  # the choice is remembered
    await expect(page.get_by_role("heading", level=1)).to_have_text("Келісімдер")

    await page.get_by_role("link", name="English").click()
    await expect(page.locator("html")).to_have_attribute("lang", "en")
    await expect(page.get_by_role("heading", level=1)).to_have_text("Consents")
    await page.get_by_role("link", name="Who received my data").click()
    await expect(page.get_by_role("heading", level=1)).to_have_text("Who received my data")
    await page.get_by_role("link", name="Delete my account").click()
    await expect(page).to_have_title("Delete my account · My account")
    await page.screenshot(path=str(SCREENSHOTS / "account-delete-en.png"), full_page=True)

    async with page.expect_download() as download_info:
        await page.goto(f"{base}/account/export")
        await page.get_by_role("link", name="Download (JSON)").click()
    download = await download_info.value
    assert download.suggested_filename == "my-data.json"

    assert not [p for p in problems if "Content Security Policy" in p], problems
    await context.close()
