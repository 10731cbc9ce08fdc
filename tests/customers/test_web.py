"""The account pages over HTTP: forms, CSRF, headers, sessions, languages, field errors."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from html.parser import HTMLParser
from typing import Any
from urllib.parse import urlencode

import aiohttp
import pytest
from aiohttp import web
from multidict import CIMultiDictProxy
from yarl import URL

from services.customers.web.security import CSP
from shared.service import running_app
from tests.customers.conftest import INTERNAL_TOKEN, MakeShop, Shop, registration

CSRF_RE = re.compile(r'name="csrf_token" value="([^"]*)"')


@dataclass
class Page:
    status: int
    text: str
    headers: CIMultiDictProxy[str]
    cookies: list[str]

    @property
    def location(self) -> str:
        return self.headers.get("Location", "")

    def csrf(self) -> str:
        match = CSRF_RE.search(self.text)
        assert match, "no CSRF token on the page"
        return match.group(1)


class Browser:
    """One browser: its own cookie jar, which treats the test server as a secure origin."""

    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[URL(base_url)])
        self.http = aiohttp.ClientSession(cookie_jar=jar)

    async def close(self) -> None:
        await self.http.close()

    async def request(self, method: str, path: str, **kwargs: Any) -> Page:
        kwargs.setdefault("allow_redirects", False)
        async with self.http.request(method, self.base_url + path, **kwargs) as resp:
            text = await resp.text()
            return Page(resp.status, text, resp.headers, resp.headers.getall("Set-Cookie", []))

    async def get(self, path: str, **kwargs: Any) -> Page:
        return await self.request("GET", path, **kwargs)

    async def post(self, path: str, data: dict[str, str], **kwargs: Any) -> Page:
        return await self.request("POST", path, data=data, **kwargs)

    async def submit(self, path: str, data: dict[str, str], form_page: str | None = None) -> Page:
        """GET the page with the form (for its CSRF token), then POST the form."""
        page = await self.get(form_page or path)
        return await self.post(path, {"csrf_token": page.csrf(), **data})

    def cookie(self, name: str) -> str | None:
        for cookie in self.http.cookie_jar:
            if cookie.key == name:
                return cookie.value
        return None


def signup_form(**overrides: str) -> dict[str, str]:
    form = {
        "last_name": "Жумабекова",
        "first_name": "Айгерим",
        "patronymic": "Нурлановна",
        "phone": "+7 701 234 56 78",
        "email": "aigerim.web@example.kz",
        "password": "correct horse battery",
        "delivery_address.city": "Шымкент",
        "delivery_address.street": "проспект Тауке хана",
        "delivery_address.house": "17",
        "delivery_address.apartment": "42",
        "delivery_address.postal_code": "160012",
        "delivery_address.comment": "домофон 42",
        "accept_policy_version": "2026-11-01",
        "accept_policy": "on",
    }
    form.update(overrides)
    return {k: v for k, v in form.items() if v is not None}


class Inputs(HTMLParser):
    """Collects inputs (id, name, type, attributes) and label targets of a page."""

    def __init__(self) -> None:
        super().__init__()
        self.inputs: list[dict[str, str | None]] = []
        self.labels: set[str] = set()
        self.ids: set[str] = set()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if attributes.get("id"):
            self.ids.add(str(attributes["id"]))
        if tag in ("input", "select", "textarea") and attributes.get("type") != "hidden":
            self.inputs.append(attributes)
        if tag == "label" and attributes.get("for"):
            self.labels.add(str(attributes["for"]))


def parse_inputs(html: str) -> Inputs:
    parser = Inputs()
    parser.feed(html)
    return parser


SESSION = "__Host-account_session"
ANON = "__Host-account_csrf"

NewBrowser = Callable[[], Browser]


@pytest.fixture
async def browsers(shop: Shop) -> AsyncIterator[NewBrowser]:
    made: list[Browser] = []

    def new() -> Browser:
        browser = Browser(shop.url)
        made.append(browser)
        return browser

    yield new
    for browser in made:
        await browser.close()


@pytest.fixture
async def browser(browsers: NewBrowser) -> Browser:
    return browsers()


async def signed_up(browser: Browser, **overrides: str) -> Page:
    page = await browser.submit("/account/signup", signup_form(**overrides))
    assert page.status == 303, page.text
    assert page.location == "/account/profile"
    return page


def assert_security_headers(page: Page, *, no_store: bool = True) -> None:
    headers = page.headers
    assert headers["Content-Security-Policy"] == CSP
    assert "default-src 'self'" in CSP and "frame-ancestors 'none'" in CSP
    assert "unsafe-inline" not in CSP
    assert headers["X-Frame-Options"] == "DENY"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert headers["X-Content-Type-Options"] == "nosniff"
    if no_store:
        assert headers["Cache-Control"] == "no-store"


# --- Sign-up form ----------------------------------------------------------------------------


async def test_signup_form_consents_unticked_policy_shown_labels(browser: Browser) -> None:
    page = await browser.get("/account/signup")
    assert page.status == 200
    assert_security_headers(page)
    assert '<html lang="ru">' in page.text
    assert "<title>Регистрация · Личный кабинет</title>" in page.text
    assert "2026-11-01" in page.text and "Политика конфиденциальности" in page.text
    assert 'href="/account/policy"' in page.text
    assert "<script" not in page.text and "style=" not in page.text
    inputs = parse_inputs(page.text)
    by_name = {i["name"]: i for i in inputs.inputs}
    for name in ("marketing_email", "marketing_sms", "cross_border_transfer", "accept_policy"):
        assert by_name[name]["type"] == "checkbox"
        assert "checked" not in by_name[name], f"{name} must be unticked"
    assert "required" in by_name["accept_policy"]
    for attributes in inputs.inputs:  # every visible input has a <label for>
        assert attributes["id"] in inputs.labels, attributes
    assert by_name["password"]["autocomplete"] == "new-password"


async def test_signup_can_consent_to_transfers_abroad_apart(browser: Browser, shop: Shop) -> None:
    await signed_up(browser, cross_border_transfer="on")
    token = await shop.login("aigerim.web@example.kz")
    _, consents = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert consents["cross_border_transfer"] is True
    assert consents["marketing"] == {"email": False, "sms": False}


async def test_signup_signs_in_with_a_strict_session_cookie(browser: Browser, shop: Shop) -> None:
    page = await signed_up(browser)
    cookie = next(c for c in page.cookies if c.startswith(SESSION + "="))
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=strict", "path=/"} <= attributes
    session_id = browser.cookie(SESSION)
    assert session_id
    conn = await shop.db()
    try:
        stored = await conn.fetch("SELECT id_hash FROM web_sessions")
    finally:
        await conn.close()
    raw = base64.urlsafe_b64decode(session_id + "=")
    assert [row["id_hash"] for row in stored] == [hashlib.sha256(raw).digest()]

    profile = await browser.get("/account/profile")
    assert profile.status == 200
    assert_security_headers(profile)
    assert "Айгерим" in profile.text and "+77012345678" in profile.text
    assert "aigerim.web@example.kz" in profile.text and "Шымкент" in profile.text
    # The same account works through the API.
    token = await shop.login("aigerim.web@example.kz")
    status, consents = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert status == 200 and consents["marketing"] == {"email": False, "sms": False}


async def test_signup_errors_next_to_fields_and_no_password_echo(browser: Browser) -> None:
    form = signup_form(
        phone="12",
        email="not-an-email",
        password="short-1",
        accept_policy=None,  # type: ignore[arg-type]
    )
    form["delivery_address.postal_code"] = "12"
    del form["delivery_address.city"]
    form["password"] = "my-secret-pw"[:7]
    page = await browser.submit("/account/signup", form)
    assert page.status == 422
    assert_security_headers(page)
    assert "my-secr" not in page.text  # the password is never put back
    assert "Нурлановна" in page.text  # other values are
    expected = {
        "f-phone": "Это не номер телефона",
        "f-email": "Это не адрес электронной почты",
        "f-password": "не короче 8 символов",
        "f-delivery_address-city": "Заполните это поле",
        "f-delivery_address-postal_code": "6 цифр",
        "f-accept_policy": "Без согласия с Политикой",
    }
    for field_id, message in expected.items():
        match = re.search(rf'<p class="error" id="{field_id}-error">([^<]*)</p>', page.text)
        assert match and message in match.group(1), field_id
        tag = re.search(rf'<input id="{field_id}"[^>]*>', page.text)
        assert tag and f"{field_id}-error" in tag.group(0) and 'aria-invalid="true"' in tag.group(0)
    assert browser.cookie(SESSION) is None


async def test_taken_email_is_a_page_not_an_error(browsers: NewBrowser) -> None:
    await signed_up(browsers())
    page = await browsers().submit("/account/signup", signup_form(phone="+7 707 000 11 22"))
    assert page.status == 409
    assert "уже существует" in page.text


# --- CSRF ------------------------------------------------------------------------------------


async def test_forms_without_a_valid_csrf_token_are_refused(browsers: NewBrowser) -> None:
    browser = browsers()
    await browser.get("/account/signin")
    for data in ({}, {"csrf_token": "forged"}):
        page = await browser.post("/account/signin", {"login": "a@b.kz", "password": "x", **data})
        assert page.status == 403
        assert_security_headers(page)
        assert "<html lang=" in page.text and "Форма устарела" in page.text
    # A token from another browser does not fit this browser's cookie.
    other = await browsers().get("/account/signup")
    page = await browser.post("/account/signup", {**signup_form(), "csrf_token": other.csrf()})
    assert page.status == 403
    # A form posted from another origin is refused even with the right token.
    own = await browser.get("/account/signin")
    page = await browser.post(
        "/account/signin",
        {"login": "a@b.kz", "password": "x", "csrf_token": own.csrf()},
        headers={"Origin": "https://evil.example"},
    )
    assert page.status == 403
    page = await browser.post(
        "/account/signin",
        {"login": "a@b.kz", "password": "x", "csrf_token": own.csrf()},
        headers={"Sec-Fetch-Site": "cross-site", "Origin": "null"},
    )
    assert page.status == 403


async def test_signed_in_forms_need_the_session_token(browser: Browser) -> None:
    anonymous = await browser.get("/account/signin")
    await signed_up(browser)
    # The token of the anonymous page no longer fits once signed in.
    page = await browser.post(
        "/account/consents", {"csrf_token": anonymous.csrf(), "marketing_email": "on"}
    )
    assert page.status == 403
    for path in (
        "/account/profile/edit",
        "/account/block",
        "/account/block/unblock",
        "/account/delete",
        "/account/signout",
    ):
        page = await browser.post(path, {"confirm": "on"})
        assert page.status == 403, path
    assert (await browser.get("/account/profile")).status == 200  # still signed in


# --- Back to the storefront (?next=) ---------------------------------------------------------


async def test_signin_returns_to_the_storefront_with_an_api_session(
    browsers: NewBrowser,
) -> None:
    await signed_up(browsers())
    browser = browsers()
    form = await browser.get("/account/signin?next=/cart")
    assert 'name="next" value="/cart"' in form.text
    assert 'href="/account/signup?next=/cart"' in form.text
    page = await browser.post(
        "/account/signin",
        {"csrf_token": form.csrf(), "login": "aigerim.web@example.kz",
         "password": "correct horse battery", "next": "/cart"},
    )  # fmt: skip
    assert page.status == 303 and page.location == "/cart"
    assert browser.cookie("refresh_token")
    tokens = await browser.post("/api/customers/token/refresh", {})
    assert tokens.status == 200 and json.loads(tokens.text)["token_type"] == "Bearer"
    # Signed in already: the storefront gets a new API session without a password.
    again = await browser.get("/account/signup?next=/products?q=vitamin")
    assert again.status == 303 and again.location == "/products?q=vitamin"
    assert any(c.startswith("refresh_token=") for c in again.cookies)
    # The API's logout ends the account pages' session of this browser too.
    out = await browser.post("/api/customers/logout", {})
    assert out.status == 204
    assert (await browser.get("/account/profile")).location == "/account/signin"


@pytest.mark.parametrize(
    "target",
    ["//evil.example/cart", "https://evil.example/", "/account/delete", "/api/orders", "/\\x",
     "/cart\r\nSet-Cookie:x", "cart", "/" + "a" * 200],
)  # fmt: skip
async def test_signin_never_returns_elsewhere(browsers: NewBrowser, target: str) -> None:
    await signed_up(browsers())
    browser = browsers()
    form = await browser.get("/account/signin?" + urlencode({"next": target}))
    assert 'name="next"' not in form.text
    page = await browser.post(
        "/account/signin",
        {"csrf_token": form.csrf(), "login": "aigerim.web@example.kz",
         "password": "correct horse battery", "next": target},
    )  # fmt: skip
    assert page.status == 303 and page.location == "/account/profile"
    assert not browser.cookie("refresh_token")


async def test_signup_returns_to_the_storefront(browser: Browser) -> None:
    form = await browser.get("/account/signup?next=/cart&lang=en")
    assert 'name="next" value="/cart"' in form.text and "To the shop" in form.text
    page = await browser.post(
        "/account/signup", {"csrf_token": form.csrf(), **signup_form(), "next": "/cart"}
    )
    assert page.status == 303 and page.location == "/cart"
    tokens = await browser.post("/api/customers/token/refresh", {})
    assert tokens.status == 200


# --- Sign in / out, sessions -----------------------------------------------------------------


async def test_signin_by_phone_signout_and_old_cookie(browsers: NewBrowser) -> None:
    await signed_up(browsers())
    browser = browsers()
    wrong = await browser.submit(
        "/account/signin", {"login": "87012345678", "password": "wrong password"}
    )
    assert wrong.status == 401 and "Неверный логин или пароль" in wrong.text
    assert "wrong password" not in wrong.text
    page = await browser.submit(
        "/account/signin", {"login": "8 701 234 56 78", "password": "correct horse battery"}
    )
    assert page.status == 303 and page.location == "/account/profile"
    old_session = browser.cookie(SESSION)
    assert (await browser.get("/account/profile")).status == 200
    out = await browser.submit("/account/signout", {}, form_page="/account/profile")
    assert out.status == 303 and out.location.startswith("/account/signin")
    assert (await browser.get("/account/profile")).location == "/account/signin"
    # Replaying the old cookie does not sign in: the server forgot the session.
    replay = Browser(browser.base_url)
    try:
        replay.http.cookie_jar.update_cookies({SESSION: old_session or ""})
        assert (await replay.get("/account/profile")).location == "/account/signin"
    finally:
        await replay.close()


async def test_pages_need_a_session(browser: Browser) -> None:
    for path in (
        "/account/profile",
        "/account/profile/edit",
        "/account/consents",
        "/account/disclosures",
        "/account/export",
        "/account/export/my-data.json",
        "/account/block",
        "/account/delete",
    ):
        page = await browser.get(path)
        assert page.status == 303 and page.location == "/account/signin", path
    assert (await browser.get("/account/")).location == "/account/signin"


# --- Profile edit ----------------------------------------------------------------------------


def edit_form(page: Page, **changes: str) -> dict[str, str]:
    """The edit form as the browser would send it: prefilled values plus changes."""
    values = dict(re.findall(r'name="([^"]+)" type="[^"]+" value="([^"]*)"', page.text))
    values.update(changes)
    values["csrf_token"] = page.csrf()
    values["locale"] = changes.get("locale", "ru")
    return values


async def test_edit_phone_and_see_it(browser: Browser, shop: Shop) -> None:
    await signed_up(browser)
    form_page = await browser.get("/account/profile/edit")
    assert form_page.status == 200
    assert_security_headers(form_page)
    assert 'value="+77012345678"' in form_page.text
    page = await browser.post(
        "/account/profile/edit", edit_form(form_page, phone="8 (707) 111-22-33", patronymic="")
    )
    assert page.status == 303 and page.location == "/account/profile?saved=1"
    profile = await browser.get(page.location)
    assert "+77071112233" in profile.text and "Изменения сохранены" in profile.text
    assert "Нурлановна" not in profile.text  # the emptied patronymic is removed
    await shop.login("+77071112233")  # login follows the new phone (same use case as the API)


async def test_edit_errors_and_conflicts(browsers: NewBrowser) -> None:
    await signed_up(browsers(), email="first@example.kz", phone="+77010000001")
    browser = browsers()
    await signed_up(browser)
    form_page = await browser.get("/account/profile/edit")
    page = await browser.post(
        "/account/profile/edit", edit_form(form_page, first_name="", phone="x")
    )
    assert page.status == 422
    assert 'id="f-first_name-error"' in page.text and 'id="f-phone-error"' in page.text
    page = await browser.post(
        "/account/profile/edit", edit_form(form_page, email="first@example.kz")
    )
    assert page.status == 409 and "другой аккаунт" in page.text
    profile = await browser.get("/account/profile")
    assert "aigerim.web@example.kz" in profile.text


# --- Consents, disclosures, export -----------------------------------------------------------


async def test_consents_page_changes_marketing(browser: Browser, shop: Shop) -> None:
    await signed_up(browser)
    page = await browser.get("/account/consents")
    assert page.status == 200
    assert_security_headers(page)
    inputs = {i["name"]: i for i in parse_inputs(page.text).inputs}
    assert "checked" not in inputs["marketing_email"] and "checked" not in inputs["marketing_sms"]
    saved = await browser.post(
        "/account/consents", {"csrf_token": page.csrf(), "marketing_sms": "on"}
    )
    assert saved.status == 303
    page = await browser.get("/account/consents")
    inputs = {i["name"]: i for i in parse_inputs(page.text).inputs}
    assert "checked" in inputs["marketing_sms"] and "checked" not in inputs["marketing_email"]
    token = await shop.login("aigerim.web@example.kz")
    _, consents = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert consents["marketing"] == {"email": False, "sms": True}


async def test_the_pages_show_a_stop_by_sms_and_a_suppressed_contact(
    browser: Browser, shop: Shop
) -> None:
    await signed_up(browser, marketing_sms="on", marketing_email="on")
    status, answer = await shop.call(
        "POST",
        "/internal/sms-stops",
        headers={"X-Internal-Token": INTERNAL_TOKEN},
        json={"phone": "87012345678"},
    )
    assert (status, answer) == (200, {"withdrawn": True})
    page = await browser.get("/account/consents")
    assert page.status == 200
    assert "История согласий на рекламу" in page.text and "ответ STOP на SMS" in page.text
    inputs = {i["name"]: i for i in parse_inputs(page.text).inputs}
    assert "checked" not in inputs["marketing_sms"] and "checked" in inputs["marketing_email"]
    en = await browser.get("/account/consents?lang=en")
    assert "a STOP reply by SMS" in en.text and "in the account" in en.text
    conn = await shop.db()
    try:
        await conn.execute(
            "INSERT INTO contact_suppressions (customer_id, channel, reason, suppressed_at)"
            " SELECT id, 'email', 'hard_bounce', now() FROM customers"
        )
    finally:
        await conn.close()
    export = await browser.get("/account/export?lang=ru")
    assert "Контакты, на которые не идёт реклама" in export.text
    assert "письмо не доставлено: такого адреса нет" in export.text
    kk = await browser.get("/account/export?lang=kk")
    assert "Жарнама жіберілмейтін байланыстар" in kk.text and "SMS-ке STOP жауабы" in kk.text


async def test_consents_page_asks_for_transfers_abroad_apart(browser: Browser, shop: Shop) -> None:
    await signed_up(browser)
    page = await browser.get("/account/consents")
    inputs = {i["name"]: i for i in parse_inputs(page.text).inputs}
    assert "checked" not in inputs["cross_border_transfer"]  # unticked, its own box
    assert "Сейчас все получатели данных находятся в Казахстане" in page.text
    saved = await browser.post(
        "/account/consents", {"csrf_token": page.csrf(), "cross_border_transfer": "on"}
    )
    assert saved.status == 303
    token = await shop.login("aigerim.web@example.kz")
    _, consents = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert consents["cross_border_transfer"] is True
    assert consents["marketing"] == {"email": False, "sms": False}


async def test_disclosure_register_and_download(browser: Browser, shop: Shop) -> None:
    await signed_up(browser)
    page = await browser.get("/account/disclosures")
    assert page.status == 200 and "пока никому не передавались" in page.text
    token = await shop.login("aigerim.web@example.kz")
    _, me = await shop.call("GET", "/api/customers/me", token=token)
    status, _ = await shop.call(
        "POST",
        "/internal/releases",
        headers={"X-Internal-Token": INTERNAL_TOKEN},
        json={
            "customer_id": me["id"],
            "purpose": "service_communication",
            "recipient": "notifications",
            "channel": "email",
            "order_ref": "KZ-2002",
        },
    )
    assert status == 200
    page = await browser.get("/account/disclosures?lang=en")
    assert_security_headers(page)
    assert "Who received my data" in page.text
    row = re.search(r"<tbody>(.*)</tbody>", page.text, re.S)
    assert row is not None
    for text in ("notification service", "service messages", "Email", "KZ-2002"):
        assert text in row.group(1)

    download = await browser.get("/account/export/my-data.json")
    assert download.status == 200
    assert download.headers["Content-Disposition"] == 'attachment; filename="my-data.json"'
    assert download.headers["Content-Type"].startswith("application/json")
    assert download.headers["Cache-Control"] == "no-store"
    document = json.loads(download.text)
    assert set(document) >= {"profile", "consents", "disclosures", "orders", "notifications"}
    assert document["profile"]["email"] == "aigerim.web@example.kz"
    assert document["disclosures"][0]["order_ref"] == "KZ-2002"


ORDERS_EXPORT = {
    "orders": [
        {
            "id": "9d7f4c1e-3d0a-4d5e-9a51-0d0c8c2b6a11",
            "order_ref": "KZ-3003",
            "status": "delivered",
            "total": {"amount": 300_000, "currency": "KZT"},
            "created_at": "2026-12-01T10:00:00+00:00",
            "items": [
                {
                    "product_id": "0b1c2d3e-4f50-4617-8293-a4b5c6d7e8f9",
                    "sku": "VIT-D3",
                    "name": "Витамин D3",
                    "quantity": 2,
                    "unit_price": {"amount": 150_000, "currency": "KZT"},
                    "line_total": {"amount": 300_000, "currency": "KZT"},
                }
            ],
            "payment": {"method": "cash_on_delivery"},
            "delivery": {"courier": "sandbox"},
            "dispatch": {"courier": "sandbox", "status": "delivered"},
            "history": [
                {"status": "placed", "at": "2026-12-01T10:00:00+00:00", "cause": "checkout"},
                {"status": "delivered", "at": "2026-12-02T09:30:00+00:00", "cause": "courier"},
            ],
        }
    ],
    "cart": [
        {
            "product_id": "1c2d3e4f-5061-4728-93a4-b5c6d7e8f901",
            "name": "Омега-3",
            "quantity": 1,
            "added_at": "2026-12-02T12:00:00+00:00",
        }
    ],
    "decisions": [
        {
            "id": "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b",
            "kind": "checkout_velocity",
            "rule": "account",
            "attempts": 6,
            "limit_per_min": 5,
            "retry_after_s": 40,
            "decided_at": "2026-12-02T12:05:00+00:00",
        }
    ],
}
NOTIFICATIONS_EXPORT = {
    "notifications": [
        {
            "kind": "order_delivered",
            "channel": "email",
            "template": "order_delivered",
            "locale": "ru",
            "status": "sent",
            "reason": None,
            "order_ref": "KZ-3003",
            "release_id": None,
            "at": "2026-12-02T09:31:00+00:00",
        }
    ]
}


@pytest.fixture
async def held_elsewhere() -> AsyncIterator[tuple[str, str]]:
    """Stand-ins of the orders and notifications export routes (their contract only; the
    real services answer in tests/e2e/test_export.py)."""
    urls = []
    async with contextlib.AsyncExitStack() as stack:
        for document in (ORDERS_EXPORT, NOTIFICATIONS_EXPORT):
            app = web.Application()

            async def answer(_: web.Request, document: dict[str, Any] = document) -> web.Response:
                return web.json_response(document)

            app.router.add_get("/internal/customers/{customer_id}/export", answer)
            urls.append(await stack.enter_async_context(running_app(app)))
        yield urls[0], urls[1]


async def test_export_page_shows_every_section_in_each_language(
    shop_factory: MakeShop, held_elsewhere: tuple[str, str]
) -> None:
    orders_url, notifications_url = held_elsewhere
    shop = await shop_factory(orders_url=orders_url, notifications_url=notifications_url)
    browser = Browser(shop.url)
    try:
        await signed_up(browser)
        token = await shop.login("aigerim.web@example.kz")
        status, _ = await shop.call(
            "POST", "/api/customers/me/requests", token=token, json={"kind": "objection"}
        )
        assert status == 201
        page = await browser.get("/account/export")
        assert page.status == 200
        assert_security_headers(page)
        ru = page.text
        for text in (
            *("Профиль", "Жумабекова", "проспект Тауке хана", "Согласия", "Заказы", "KZ-3003"),
            *("доставлен", "Витамин D3", "3\u00a0000,00\u00a0₸", "наличными при получении"),
            *("Корзина", "Омега-3", "Уведомления", "заказ доставлен", "Мои запросы"),
            *("возражение", "Входы в аккаунт", "Кто пользовался моими данными", "вы"),
            *("идентификация", "Скачать (JSON)", "Автоматические решения"),
            *("отказ в оформлении заказа", "5e6f7a8b-9c0d-4e1f-8a2b-3c4d5e6f7a8b"),
        ):
            assert text in ru, text
        assert "Этот раздел сейчас недоступен" not in ru and 'role="alert"' not in ru
        kk = (await browser.get("/account/export?lang=kk")).text
        for text in (
            "Тапсырыстар",
            "жеткізілді",
            "Себет",
            "Менің сұрауларым",
            "қарсылық",
            "Автоматты шешімдер",
        ):
            assert text in kk, text
        en = (await browser.get("/account/export?lang=en")).text
        for text in (
            "Who used my data",
            "delivered",
            "Cart",
            "objection",
            "cash on delivery",
            "Automated decisions",
        ):
            assert text in en, text
    finally:
        await browser.close()


async def test_export_page_says_what_a_silent_service_left_out(
    shop_factory: MakeShop, held_elsewhere: tuple[str, str]
) -> None:
    orders_url, _ = held_elsewhere
    shop = await shop_factory(orders_url=orders_url, notifications_url="http://127.0.0.1:9")
    browser = Browser(shop.url)
    try:
        await signed_up(browser)
        page = await browser.get("/account/export?lang=en")
        assert page.status == 200
        assert "KZ-3003" in page.text and "This section is unavailable right now." in page.text
        assert "not everything is shown" in page.text
        download = json.loads((await browser.get("/account/export/my-data.json")).text)
        assert download["complete"] is False and set(download["notes"]) == {"notifications"}
        assert download["orders"][0]["order_ref"] == "KZ-3003"
    finally:
        await browser.close()


# --- Block and delete: done at once -------------------------------------------------------


async def _blocking_rows(shop: Shop) -> dict[str, Any]:
    conn = await shop.db()
    try:
        return {
            "status": await conn.fetchval("SELECT status FROM customers"),
            "requests": [
                tuple(r)
                for r in await conn.fetch(
                    "SELECT kind, status, filed_by FROM subject_requests ORDER BY filed_at"
                )
            ],
            "events": [
                (r["message_type"], json.loads(r["body"])["version"])
                for r in await conn.fetch(
                    "SELECT message_type, body FROM outbox"
                    " WHERE message_type LIKE 'customers.customer.%blocked' ORDER BY id"
                )
            ],
            "stub_rows": await conn.fetchval("SELECT count(*) FROM web_account_requests"),
            "id": await conn.fetchval("SELECT id FROM customers"),
        }
    finally:
        await conn.close()


async def test_the_block_page_blocks_and_unblocks_for_real(browser: Browser, shop: Shop) -> None:
    await signed_up(browser)
    page = await browser.get("/account/block")
    assert page.status == 200
    assert_security_headers(page)
    for said in (
        "временное прекращение обработки",  # what blocking is (art. 1)
        "Новые заказы не принимаются",
        "Заказы, оформленные до блокирования",
        "это ваши права, а не обработка данных магазином",
    ):
        assert said in page.text
    assert "не выполняется автоматически" not in page.text  # the stub's words are gone
    assert 'action="/account/block/unblock"' not in page.text
    unconfirmed = await browser.post("/account/block", {"csrf_token": page.csrf()})
    assert unconfirmed.status == 422 and 'id="f-confirm-error"' in unconfirmed.text
    assert (await _blocking_rows(shop))["status"] == "active"

    done = await browser.post("/account/block", {"csrf_token": page.csrf(), "confirm": "on"})
    assert done.status == 303 and done.location == "/account/block?done=block"
    page = await browser.get(done.location)
    assert "Обработка ваших данных заблокирована." in page.text
    assert "Обработка ваших данных заблокирована с " in page.text
    assert 'action="/account/block/unblock"' in page.text and "Разблокировать" in page.text
    assert "Последний запрос: блокирование" in page.text and "исполнен" in page.text
    rows = await _blocking_rows(shop)
    customer = f"customer:{rows['id']}"
    assert rows["status"] == "blocked" and rows["stub_rows"] == 0
    assert rows["requests"] == [("block", "completed", customer)]
    assert rows["events"] == [("customers.customer.blocked", 1)]
    profile = await browser.get("/account/profile")
    assert "заблокирован" in profile.text  # the customer still sees their data
    assert '<a href="/account/block">Разблокировать</a>' in profile.text

    kk = await browser.get("/account/block?lang=kk")
    assert "Деректеріңізді өңдеу" in kk.text and "Бұғаттан шығару" in kk.text
    undone = await browser.post("/account/block/unblock", {"csrf_token": kk.csrf()})
    assert undone.status == 303 and undone.location == "/account/block?done=unblock"
    page = await browser.get(undone.location + "&lang=en")
    assert "The block is lifted" in page.text and ">Block</button>" in page.text
    rows = await _blocking_rows(shop)
    assert rows["status"] == "active"
    assert rows["requests"][-1] == ("unblock", "completed", customer)
    assert rows["events"][-1] == ("customers.customer.unblocked", 2)


async def _erasure_rows(shop: Shop) -> dict[str, Any]:
    conn, keystore = await shop.db(), await shop.keystore_db()
    try:
        return {
            "status": await conn.fetchval("SELECT status FROM customers"),
            "keys": await keystore.fetchval("SELECT count(*) FROM customer_keys"),
            "fields": await conn.fetchval("SELECT count(*) FROM customer_pd"),
            "sessions": await conn.fetchval("SELECT count(*) FROM web_sessions"),
            "requests": [
                tuple(r) for r in await conn.fetch("SELECT kind, status FROM subject_requests")
            ],
        }
    finally:
        await keystore.close()
        await conn.close()


async def test_the_delete_page_erases_for_real(browsers: NewBrowser, shop: Shop) -> None:
    path = "/account/delete"
    browser, other_device = browsers(), browsers()
    await signed_up(browser)
    await other_device.submit(
        "/account/signin", {"login": "aigerim.web@example.kz", "password": "correct horse battery"}
    )
    page = await browser.get(path)
    assert page.status == 200
    assert_security_headers(page)
    for said in ("ключ шифрования ваших данных уничтожается", "Заказы остаются в бухгалтерии",
                 "данные, нужные для доставки", "номер клиента, виды и даты"):  # fmt: skip
        assert said in page.text
    assert "не выполняется автоматически" not in page.text  # the stub's words are gone
    assert 'type="password"' in page.text
    unconfirmed = await browser.post(
        path, {"csrf_token": page.csrf(), "password": "correct horse battery"}
    )
    assert unconfirmed.status == 422 and 'id="f-confirm-error"' in unconfirmed.text
    wrong = await browser.post(
        path, {"csrf_token": page.csrf(), "confirm": "on", "password": "not my password"}
    )
    assert wrong.status == 403 and "Неверный пароль" in wrong.text
    assert "not my password" not in wrong.text
    assert (await _erasure_rows(shop))["status"] == "active"

    kk = await browser.get(path + "?lang=kk")
    assert "Аккаунтты біржола жою" in kk.text
    done = await browser.post(
        path, {"csrf_token": kk.csrf(), "confirm": "on", "password": "correct horse battery"}
    )
    assert done.status == 200, done.text
    assert "Дербес деректеріңіз жойылды" in done.text and "бір жұмыс күні" in done.text
    assert any(c.startswith(SESSION + "=") and "Max-Age=0" in c for c in done.cookies), done.cookies
    rows = await _erasure_rows(shop)
    assert rows == {
        "status": "erased", "keys": 0, "fields": 0, "sessions": 0,
        "requests": [("erase", "in_progress")],
    }  # fmt: skip
    # Signed out here and on the other device; the password no longer opens anything.
    for each in (browser, other_device):
        assert (await each.get("/account/profile")).location == "/account/signin"
    again = await browser.submit(
        "/account/signin", {"login": "aigerim.web@example.kz", "password": "correct horse battery"}
    )
    assert again.status == 401


# --- Languages, headers, errors --------------------------------------------------------------


async def test_language_switch_is_remembered(browser: Browser) -> None:
    page = await browser.get("/account/signin?lang=kk")
    assert '<html lang="kk">' in page.text and "<h1>Кіру</h1>" in page.text
    assert any(c.startswith("lang=kk") for c in page.cookies)
    page = await browser.get("/account/signup")
    assert '<html lang="kk">' in page.text and "<h1>Тіркелу</h1>" in page.text
    page = await browser.get("/account/signup?lang=en")
    assert '<html lang="en">' in page.text and "<h1>Sign up</h1>" in page.text
    assert "<title>Sign up · My account</title>" in page.text
    page = await browser.get("/account/signin?lang=xx")  # unknown: the remembered one stays
    assert '<html lang="en">' in page.text
    fresh = Browser(browser.base_url)
    try:
        assert '<html lang="ru">' in (await fresh.get("/account/signin")).text
    finally:
        await fresh.close()


async def test_every_answer_carries_the_headers(browser: Browser) -> None:
    missing = await browser.get("/account/nowhere")
    assert missing.status == 404 and "Страница не найдена" in missing.text
    assert_security_headers(missing)
    css = await browser.get("/account/static/account.css")
    assert css.status == 200
    assert_security_headers(css, no_store=False)
    policy = await browser.get("/account/policy?lang=kk")
    assert policy.status == 200 and "1.1. Дербес деректер – электрондық" in policy.text


async def test_no_pd_in_logs(browser: Browser, captured_logs: io.StringIO) -> None:
    await signed_up(browser)
    form_page = await browser.get("/account/profile/edit")
    await browser.post("/account/profile/edit", edit_form(form_page, phone="+77071112233"))
    await browser.get("/account/profile")
    logs = captured_logs.getvalue()
    for value in ("aigerim", "7012345678", "7071112233", "Жумабекова", "Шымкент", "correct horse"):
        assert value not in logs


async def test_api_registration_then_page_sign_in(browser: Browser, shop: Shop) -> None:
    await shop.register(**{"email": "api@example.kz"})
    page = await browser.submit(
        "/account/signin", {"login": "api@example.kz", "password": "correct horse battery"}
    )
    assert page.status == 303
    profile = await browser.get("/account/profile")
    assert registration()["last_name"] in profile.text


def test_cookie_names_follow_the_secure_setting() -> None:
    from services.customers.web.config import WebConfig
    from services.customers.web.security import Cookies

    assert Cookies(WebConfig(cookie_secure=True)).session == "__Host-account_session"
    plain = Cookies(WebConfig(cookie_secure=False))
    assert plain.session == "account_session" and not plain.secure
