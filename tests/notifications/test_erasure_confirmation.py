"""The erasure's confirmation: customers hands over the address right before it shreds, the
mail goes at once, once per erasure request, and nothing of the person stays here."""

from __future__ import annotations

import io
import json
from uuid import uuid4

import aiohttp

from deploy.smtp_sink import SmtpSink
from tests.notifications.conftest import (
    INTERNAL_TOKEN,
    StartNotifications,
    all_table_text,
    deliveries,
)

HEADERS = {"X-Internal-Token": INTERNAL_TOKEN}
PATH = "/internal/erasure-confirmations"


async def test_the_confirmation_goes_at_once_and_only_once(
    start_notifications: StartNotifications, sink: SmtpSink, captured_logs: io.StringIO
) -> None:
    app = await start_notifications()
    request_id = uuid4()
    body = {
        "request_id": str(request_id),
        "locale": "kk",
        "email": "gone.soon@mail.kz",
        "first_name": "Әлия",
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{app.url}{PATH}", json=body, headers=HEADERS) as resp:
            assert resp.status == 200 and (await resp.json()) == {"status": "sent"}
        assert [m.rcpt_tos for m in sink.messages] == [("gone.soon@mail.kz",)]  # already there
        async with http.post(f"{app.url}{PATH}", json=body, headers=HEADERS) as resp:
            assert (await resp.json()) == {"status": "already_sent"}

    [mail] = sink.messages
    assert mail.subject == "Аккаунтыңыз жабылды, дербес деректер жойылуда"
    text = mail.body()
    assert text.startswith("Сәлеметсіз бе, Әлия!") and str(request_id) in text
    assert "Жеке кабинет" not in text  # no account to point to any more
    [row] = await deliveries(app.dsn)
    assert (row["kind"], row["status"], row["locale"]) == ("erasure_confirmation", "sent", "kk")
    assert row["customer_id"] is None and row["release_id"] is None
    stored = await all_table_text(app.dsn)
    assert str(request_id) in stored  # the scan does read the tables
    for secret in ("gone.soon", "Әлия"):
        assert secret not in stored and secret not in captured_logs.getvalue()


async def test_bad_bodies_and_callers_are_refused_quoting_nothing(
    start_notifications: StartNotifications, sink: SmtpSink
) -> None:
    app = await start_notifications()
    good = {"request_id": str(uuid4()), "email": "who@mail.kz"}
    async with aiohttp.ClientSession() as http:
        for headers in ({}, {"X-Internal-Token": "wrong"}):
            async with http.post(f"{app.url}{PATH}", json=good, headers=headers) as resp:
                assert resp.status in (401, 403)
        for bad in (
            {**good, "email": "not an address who@mail.kz"},
            {**good, "email": "who@mail.kz\u0019"},  # SMTP refuses control characters
            {**good, "phone": "+77012345678"},
            {"email": "who@mail.kz"},
        ):
            async with http.post(f"{app.url}{PATH}", json=bad, headers=HEADERS) as resp:
                assert resp.status == 422
                assert resp.content_type == "application/problem+json"
                problem = json.dumps(await resp.json())
                assert "who@mail.kz" not in problem and "77012345678" not in problem
    assert sink.messages == []


async def test_the_mail_server_away_is_a_503_and_nothing_is_logged_as_sent(
    start_notifications: StartNotifications, sink: SmtpSink
) -> None:
    app = await start_notifications(smtp_port=9)  # nothing listens there
    body = {"request_id": str(uuid4()), "locale": "en", "email": "later@mail.kz"}
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{app.url}{PATH}", json=body, headers=HEADERS) as resp:
            assert resp.status == 503
            assert "later@mail.kz" not in await resp.text()
    assert await deliveries(app.dsn) == []
