"""The unsubscribe link: GET shows a page and changes nothing; POST (RFC 8058 one-click or
the page's button) publishes MarketingUnsubscribed once; bad links are refused quoting
nothing."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aiohttp
import asyncpg
import pytest

from services.notifications.unsubscribe_links import PATH, Unsubscribe, make_token
from services.notifications.unsubscribe_pages import choose_locale
from tests.notifications.conftest import Running, StartNotifications

SECRET = "unsubscribe-test-secret-0123456789"
ONE_CLICK = {"List-Unsubscribe": "One-Click"}
HTML = {"Accept": "text/html,application/xhtml+xml"}


def link(target: Unsubscribe, secret: str = SECRET, **kwargs: Any) -> str:
    return make_token(secret, target, days=kwargs.pop("days", 30), **kwargs)


async def published(dsn: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT body FROM outbox WHERE message_type = 'notifications.marketing.unsubscribed'"
            " ORDER BY id"
        )
    finally:
        await conn.close()
    return [json.loads(bytes(row["body"])) for row in rows]


@dataclass(frozen=True)
class Answer:
    status: int
    content_type: str
    text: str


async def visit(app: Running, method: str, token: str, **kwargs: Any) -> Answer:
    """One request to the link's page with ``token``; ``kwargs`` as aiohttp takes them."""
    async with aiohttp.ClientSession() as http:
        async with http.request(
            method, f"{app.url}{PATH}", params={"token": token}, **kwargs
        ) as resp:
            return Answer(resp.status, resp.content_type, await resp.text())


@pytest.fixture
async def app(start_notifications: StartNotifications) -> Running:
    return await start_notifications(unsubscribe_secret=SECRET)


async def test_get_shows_a_page_with_a_button_and_unsubscribes_nobody(app: Running) -> None:
    target = Unsubscribe(uuid4(), "email", uuid4())
    token = link(target)
    async with aiohttp.ClientSession() as http:
        async with http.get(
            f"{app.url}{PATH}", params={"token": token}, headers={**HTML, "Accept-Language": "ru"}
        ) as resp:
            page = await resp.text()
            assert resp.status == 200
            assert resp.content_type == "text/html"
            csp = resp.headers["Content-Security-Policy"]
            assert resp.headers["Referrer-Policy"] == "no-referrer"
            assert "Set-Cookie" not in resp.headers
    assert "default-src 'none'" in csp and "script-src 'none'" in csp
    assert "Отписаться" in page and '<form method="post"' in page
    assert "<script" not in page and "http://" not in page and "https://" not in page
    assert await published(app.dsn) == []


@pytest.mark.parametrize(
    ("accept_language", "words"),
    [
        ("kk-KZ,kk;q=0.9,ru;q=0.8", "Бас тарту"),
        ("en-US,en;q=0.9", "Unsubscribe"),
        ("de-DE, fr;q=0.9", "Отписаться"),
        ("ru;q=0.1, en;q=0.5", "Unsubscribe"),
        ("en;q=0, kk", "Бас тарту"),
    ],
)
async def test_the_page_speaks_the_readers_language(
    app: Running, accept_language: str, words: str
) -> None:
    token = link(Unsubscribe(uuid4(), "sms", None))
    answer = await visit(app, "GET", token, headers={**HTML, "Accept-Language": accept_language})
    assert answer.status == 200
    assert words in answer.text


def test_locale_choice() -> None:
    assert choose_locale(None) == "ru"
    assert choose_locale("kk") == "kk"
    assert choose_locale("en-GB;q=0.8, kk-KZ;q=0.9") == "kk"
    assert choose_locale("en;q=abc, kk;q=2, ru;q=0.3") == "ru"


async def test_one_click_post_unsubscribes_without_cookie_or_redirect(app: Running) -> None:
    target = Unsubscribe(uuid4(), "email", uuid4())
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{app.url}{PATH}",
            params={"token": link(target)},
            data=ONE_CLICK,
            allow_redirects=False,
        ) as resp:
            assert resp.status == 200
            assert "Set-Cookie" not in resp.headers
            assert "Location" not in resp.headers
    [event] = await published(app.dsn)
    assert event["customer_id"] == str(target.customer_id)
    assert (event["channel"], event["via"]) == ("email", "one_click")
    assert event["campaign_id"] == str(target.campaign_id)
    assert datetime.fromisoformat(event["at"]) > datetime.now(UTC) - timedelta(minutes=1)


async def test_the_pages_button_unsubscribes_via_page(app: Running) -> None:
    target = Unsubscribe(uuid4(), "sms", None)
    async with aiohttp.ClientSession() as http:
        async with http.post(
            f"{app.url}{PATH}",
            params={"token": link(target)},
            data={"confirm": "page"},
            headers={**HTML, "Accept-Language": "en"},
        ) as resp:
            assert resp.status == 200
            assert "You are unsubscribed" in await resp.text()
            assert "marketing text messages" in await resp.text()
    [event] = await published(app.dsn)
    assert (event["channel"], event["via"], event["campaign_id"]) == ("sms", "page", None)


async def test_a_second_post_of_the_same_link_publishes_nothing_new(app: Running) -> None:
    target = Unsubscribe(uuid4(), "email", uuid4())
    token = link(target)
    async with aiohttp.ClientSession() as http:
        for body in (ONE_CLICK, ONE_CLICK, {"confirm": "page"}):
            async with http.post(f"{app.url}{PATH}", params={"token": token}, data=body) as resp:
                assert resp.status == 200
        # Another campaign's link of the same customer is a use of its own.
        other = link(Unsubscribe(target.customer_id, "email", uuid4()))
        async with http.post(f"{app.url}{PATH}", params={"token": other}, data=ONE_CLICK) as resp:
            assert resp.status == 200
    events = await published(app.dsn)
    assert [e["via"] for e in events] == ["one_click", "one_click"]
    assert len({e["campaign_id"] for e in events}) == 2


def bad_tokens() -> dict[str, str]:
    target = Unsubscribe(UUID(int=7), "email", None)
    past = datetime.now(UTC) - timedelta(days=400)
    return {
        "forged": link(target, secret="another-secret-another-secret-0123"),
        "expired": link(target, now=past),
        "garbage": "not-a-token<script>",
        "empty": "",
    }


@pytest.mark.parametrize("name", list(bad_tokens()))
async def test_a_bad_link_is_a_4xx_that_quotes_nothing(app: Running, name: str) -> None:
    token = bad_tokens()[name]
    async with aiohttp.ClientSession() as http:
        for method, body in (("GET", None), ("POST", ONE_CLICK)):
            for headers in (HTML, {}):
                async with http.request(
                    method, f"{app.url}{PATH}", params={"token": token}, data=body, headers=headers
                ) as resp:
                    text = await resp.text()
                    assert resp.status == 400, (method, headers, text)
                    expected = "text/html" if headers else "application/problem+json"
                    assert resp.content_type == expected
                    assert (token or "\0") not in text
                    assert "00000000-0000-0000-0000-000000000007" not in text
    assert await published(app.dsn) == []


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"List-Unsubscribe": "One-Click"}', "application/json"),
        (b"List-Unsubscribe=Yes", "application/x-www-form-urlencoded"),
        (b"List-Unsubscribe=One-Click&x=1", "application/x-www-form-urlencoded"),
        (b"", "application/x-www-form-urlencoded"),
        (b"List-Unsubscribe=One-Click", "text/plain"),
    ],
)
async def test_a_post_that_is_not_one_click_unsubscribes_nobody(
    app: Running, body: bytes, content_type: str
) -> None:
    token = link(Unsubscribe(uuid4(), "email", None))
    answer = await visit(app, "POST", token, data=body, headers={"Content-Type": content_type})
    assert 400 <= answer.status < 500
    assert answer.content_type == "application/problem+json"
    assert await published(app.dsn) == []
