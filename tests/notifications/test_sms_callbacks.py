"""The SMS provider's callbacks into notifications, from the sandbox provider (signed HTTP):
delivery reports update the delivery log and a permanent failure suppresses the contact;
an inbound STOP goes to customers; unsigned, forged, stale or malformed calls are refused."""

from __future__ import annotations

import io
import json
import time
from collections.abc import AsyncIterator
from typing import Any
from uuid import UUID, uuid4

import aiohttp
import asyncpg
import pytest

from deploy.sandbox_sms import SandboxSms
from services.notifications.sms import SmsClient
from shared.signing import signed_headers
from tests.notifications.conftest import (
    CustomersStub,
    Running,
    StartNotifications,
    all_table_text,
    eventually,
)

SECRET = "sms-callbacks-test-secret"
PHONE = "+77011234567"
REPORTS = "/api/notifications/sms/reports"
INBOUND = "/api/notifications/sms/inbound"


@pytest.fixture
async def app(start_notifications: StartNotifications) -> Running:
    return await start_notifications(sms_provider_secret=SECRET)


@pytest.fixture
async def provider(app: Running) -> AsyncIterator[tuple[SandboxSms, SmsClient]]:
    async with (
        SandboxSms(
            callback_base_url=app.url, secret=SECRET, report_delay_s=0.0, retry_delays_s=(0.1,) * 3
        ) as sandbox,
        aiohttp.ClientSession() as http,
    ):
        url = await sandbox.listen()
        yield sandbox, SmsClient(http, url, SECRET, "Shop")


async def sent_sms(dsn: str, customer_id: UUID) -> UUID:
    """A delivery-log row of an SMS as a sender writes it (its id is the provider's message_id)."""
    notification_id = uuid4()
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute(
            "INSERT INTO deliveries (notification_id, customer_id, kind, channel, template,"
            " locale, status, message_id) VALUES ($1, $2, 'promo', 'sms', 'promo', 'ru',"
            " 'sent', $3)",
            notification_id,
            customer_id,
            uuid4(),
        )
    finally:
        await conn.close()
    return notification_id


async def row(dsn: str, query: str, *args: Any) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        return [dict(r) for r in await conn.fetch(query, *args)]
    finally:
        await conn.close()


async def delivery(dsn: str, notification_id: UUID) -> dict[str, Any]:
    [found] = await row(dsn, "SELECT * FROM deliveries WHERE notification_id = $1", notification_id)
    return found


async def suppressed_events(dsn: str) -> list[dict[str, Any]]:
    rows = await row(
        dsn,
        "SELECT body FROM outbox WHERE message_type = 'notifications.contact.suppressed'"
        " ORDER BY id",
    )
    return [json.loads(bytes(r["body"])) for r in rows]


async def test_a_delivered_report_marks_the_delivery(
    app: Running, provider: tuple[SandboxSms, SmsClient]
) -> None:
    sandbox, sms = provider
    notification_id = await sent_sms(app.dsn, uuid4())
    await sms.send(PHONE, "Ваш заказ в пути", notification_id)
    record = await sandbox.wait_for(str(notification_id), reported=True)
    assert record["report_answer"] == 200
    found = await delivery(app.dsn, notification_id)
    assert (found["status"], found["report"]) == ("sent", "delivered")
    assert found["reported_at"] is not None
    assert await suppressed_events(app.dsn) == []


async def test_a_permanent_failure_suppresses_the_contact_once(
    app: Running, provider: tuple[SandboxSms, SmsClient], captured_logs: io.StringIO
) -> None:
    sandbox, sms = provider
    customer_id = uuid4()
    phone = "+77000000299"
    notification_id = await sent_sms(app.dsn, customer_id)
    await sms.send(phone, "Скидки недели", notification_id)
    await sandbox.wait_for(str(notification_id), reported=True)
    found = await delivery(app.dsn, notification_id)
    assert (found["status"], found["report"], found["reason"]) == (
        "failed",
        "failed",
        "unreachable_number",
    )
    [event] = await suppressed_events(app.dsn)
    assert (event["customer_id"], event["channel"]) == (str(customer_id), "sms")
    assert event["reason"] == "provider_rejected"
    [kept] = await row(app.dsn, "SELECT * FROM suppressions")
    assert (kept["customer_id"], kept["channel"]) == (customer_id, "sms")

    # The provider sends the same report again: nothing more is published.
    report = {
        "event_id": str(uuid4()),
        "message_id": str(notification_id),
        "provider_message_id": "sbx-1",
        "status": "failed",
        "permanent": True,
        "reason": "unreachable_number",
        "at": "2026-06-01T10:00:00+00:00",
    }
    assert await post_signed(app, REPORTS, report) == 200
    assert len(await suppressed_events(app.dsn)) == 1
    text = await all_table_text(app.dsn) + captured_logs.getvalue()
    assert phone not in text and phone[1:] not in text and "Скидки" not in text


async def test_a_transient_failure_does_not_suppress(
    app: Running, provider: tuple[SandboxSms, SmsClient]
) -> None:
    sandbox, sms = provider
    notification_id = await sent_sms(app.dsn, uuid4())
    await sms.send("+77000000301", "x", notification_id)
    await sandbox.wait_for(str(notification_id), reported=True)
    found = await delivery(app.dsn, notification_id)
    assert (found["status"], found["reason"]) == ("failed", "network_timeout")
    assert await suppressed_events(app.dsn) == []


async def test_a_report_on_an_unknown_text_is_a_404_the_provider_retries(
    app: Running, provider: tuple[SandboxSms, SmsClient]
) -> None:
    sandbox, sms = provider
    message_id = uuid4()
    await sms.send(PHONE, "x", message_id)
    record = await sandbox.wait_for(str(message_id), reported=True)
    assert record["report_answer"] == 404 and record["report"].startswith("report failed")


async def post_signed(
    app: Running, path: str, body: Any, *, secret: str = SECRET, now: float | None = None
) -> int:
    raw = json.dumps(body).encode() if not isinstance(body, bytes) else body
    headers = {"Content-Type": "application/json", **signed_headers(secret, raw, now=now)}
    async with (
        aiohttp.ClientSession() as http,
        http.post(app.url + path, data=raw, headers=headers) as resp,
    ):
        assert resp.content_type in ("application/json", "application/problem+json")
        text = await resp.text()
        assert PHONE not in text and PHONE[1:] not in text
        return resp.status


def inbound(text: str, phone: str = PHONE) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "from": phone,
        "to": "Shop",
        "text": text,
        "received_at": "2026-06-01T10:00:00+00:00",
    }


@pytest.mark.parametrize("word", ["STOP", "стоп", "СТОП!", " Stop. ", "Тоқта"])
async def test_an_inbound_stop_goes_to_customers(
    app: Running,
    provider: tuple[SandboxSms, SmsClient],
    customers: tuple[CustomersStub, str],
    captured_logs: io.StringIO,
    word: str,
) -> None:
    sandbox, _ = provider
    assert await sandbox.inbound(PHONE, word) == 200
    assert customers[0].sms_stops == [{"phone": PHONE}]
    text = await all_table_text(app.dsn) + captured_logs.getvalue()
    assert PHONE not in text and PHONE[1:] not in text


async def test_other_inbound_texts_are_not_stops(
    app: Running, customers: tuple[CustomersStub, str]
) -> None:
    for text in ("Стоп, а где мой заказ?", "Спасибо", "stop it please"):
        assert await post_signed(app, INBOUND, inbound(text)) == 200
    assert customers[0].sms_stops == []


async def test_a_local_number_is_sent_to_customers_in_e164(
    app: Running, customers: tuple[CustomersStub, str]
) -> None:
    assert await post_signed(app, INBOUND, inbound("STOP", phone="+7 (701) 123-45-67")) == 200
    assert customers[0].sms_stops == [{"phone": PHONE}]


async def test_customers_away_is_a_503_so_the_provider_retries(
    app: Running,
    provider: tuple[SandboxSms, SmsClient],
    customers: tuple[CustomersStub, str],
) -> None:
    stub = customers[0]
    stub.sms_stop_status = 503
    assert await post_signed(app, INBOUND, inbound("STOP")) == 503
    sandbox, _ = provider
    sandbox.inbound_later(PHONE, "STOP")

    async def refused_twice() -> bool:
        return stub.sms_stops_refused >= 2

    async def stopped() -> list[dict[str, Any]]:
        return stub.sms_stops

    await eventually(refused_twice, timeout=10)
    stub.sms_stop_status = 200  # customers is back before the provider's next try
    await eventually(stopped, timeout=10)
    assert stub.sms_stops == [{"phone": PHONE}]


@pytest.mark.parametrize("path", [REPORTS, INBOUND])
async def test_unsigned_forged_or_stale_callbacks_are_401(app: Running, path: str) -> None:
    body = inbound("STOP") if path == INBOUND else {"message_id": str(uuid4())}
    raw = json.dumps(body).encode()
    assert await post_signed(app, path, raw, secret="forged-secret") == 401
    assert await post_signed(app, path, raw, now=time.time() - 3600) == 401
    async with (
        aiohttp.ClientSession() as http,
        http.post(app.url + path, data=raw, headers={"Content-Type": "application/json"}) as resp,
    ):
        assert resp.status == 401


@pytest.mark.parametrize(
    ("path", "body"),
    [
        (INBOUND, {**inbound("STOP"), "from": "not a phone"}),
        (INBOUND, {**inbound("STOP"), "extra": 1}),
        (INBOUND, {"text": "STOP"}),
        (REPORTS, {"message_id": "x", "status": "delivered"}),
        (
            REPORTS,
            {
                "event_id": str(uuid4()),
                "message_id": str(uuid4()),
                "provider_message_id": "p",
                "status": "lost",
                "at": "2026-06-01T10:00:00+00:00",
            },
        ),
        (REPORTS, b"[1, 2"),
    ],
)
async def test_malformed_callbacks_are_4xx(
    app: Running, customers: tuple[CustomersStub, str], path: str, body: Any
) -> None:
    status = await post_signed(app, path, body)
    assert 400 <= status < 500
    assert customers[0].sms_stops == []
