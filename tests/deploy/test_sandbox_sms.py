"""The sandbox SMS provider: signed sends in (idempotent by message id, test numbers refused
by rule), signed delivery reports and inbound texts out, retried with back-off."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from deploy.sandbox_sms import SandboxSms, outcome_of, parse_args
from services.notifications.sms import SmsClient, SmsRejected
from shared.service import running_app
from shared.signing import SignatureError, signed_headers, verify

SECRET = "sms-sandbox-test-secret"
PHONE = "+77011234567"


@dataclass
class FakeShop:
    """The shop's two callback routes: check the signature, record, answer as told."""

    answers: list[int] = field(default_factory=list)  # popped per call; then 200
    calls: list[dict[str, Any]] = field(default_factory=list)
    forged: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/api/notifications/sms/reports", self.take)
        app.router.add_post("/api/notifications/sms/inbound", self.take)
        return app

    async def take(self, request: web.Request) -> web.Response:
        raw = await request.read()
        try:
            verify(SECRET, request.headers, raw)
        except SignatureError:
            self.forged += 1
            return web.json_response({"title": "Bad signature"}, status=401)
        self.calls.append({"path": request.path, "body": json.loads(raw)})
        status = self.answers.pop(0) if self.answers else 200
        return web.json_response({}, status=status)


@pytest.fixture
async def shop() -> AsyncIterator[tuple[FakeShop, str]]:
    fake = FakeShop()
    async with running_app(fake.app()) as url:
        yield fake, url


@pytest.fixture
async def provider(shop: tuple[FakeShop, str]) -> AsyncIterator[tuple[SandboxSms, str]]:
    async with SandboxSms(
        callback_base_url=shop[1], secret=SECRET, report_delay_s=0.0, retry_delays_s=(0.05, 0.1)
    ) as sandbox:
        yield sandbox, await sandbox.listen()


@pytest.fixture
async def sms(provider: tuple[SandboxSms, str]) -> AsyncIterator[SmsClient]:
    async with aiohttp.ClientSession() as http:
        yield SmsClient(http, provider[1], SECRET, "Shop")


def test_the_number_rule() -> None:
    assert outcome_of("+77000000012") == ("invalid_number", ("delivered", False, None))
    assert outcome_of("+77000000199")[0] == "blocked"
    assert outcome_of("+77000000250") == (None, ("failed", True, "unreachable_number"))
    assert outcome_of("+77000000301") == (None, ("failed", False, "network_timeout"))
    assert outcome_of(PHONE) == (None, ("delivered", False, None))


async def test_a_send_is_kept_shown_and_reported_delivered_signed(
    provider: tuple[SandboxSms, str], shop: tuple[FakeShop, str], sms: SmsClient
) -> None:
    sandbox, url = provider
    message_id = str(uuid.uuid4())
    provider_id = await sms.send(PHONE, "Ваш заказ SH-1 в пути", message_id)
    record = await sandbox.wait_for(message_id, reported=True)
    assert record["id"] == provider_id and record["report"] == "delivered"
    [call] = shop[0].calls
    assert call["path"] == "/api/notifications/sms/reports"
    report = call["body"]
    assert (report["message_id"], report["provider_message_id"]) == (message_id, provider_id)
    assert (report["status"], report["permanent"], report["reason"]) == ("delivered", False, None)
    async with aiohttp.ClientSession() as http, http.get(f"{url}/messages") as resp:
        shown = await resp.json()
    [item] = shown["messages"]
    assert (item["to"], item["text"], item["sender"]) == (PHONE, "Ваш заказ SH-1 в пути", "Shop")


async def test_the_same_message_id_is_one_text_and_one_report(
    provider: tuple[SandboxSms, str], shop: tuple[FakeShop, str], sms: SmsClient
) -> None:
    sandbox, _ = provider
    message_id = str(uuid.uuid4())
    first = await sms.send(PHONE, "x", message_id)
    assert await sms.send(PHONE, "x", message_id) == first
    await sandbox.wait_for(message_id, reported=True)
    assert len(sandbox.messages) == 1
    assert len(shop[0].calls) == 1


@pytest.mark.parametrize(
    ("phone", "reason"), [("+77000000001", "invalid_number"), ("+77000000105", "blocked")]
)
async def test_test_numbers_are_refused_for_good(
    provider: tuple[SandboxSms, str],
    shop: tuple[FakeShop, str],
    sms: SmsClient,
    phone: str,
    reason: str,
) -> None:
    with pytest.raises(SmsRejected) as refused:
        await sms.send(phone, "x", uuid.uuid4())
    assert refused.value.reason == reason
    assert provider[0].messages == {} and shop[0].calls == []


async def test_a_permanent_failure_is_reported_failed(
    provider: tuple[SandboxSms, str], shop: tuple[FakeShop, str], sms: SmsClient
) -> None:
    message_id = str(uuid.uuid4())
    await sms.send("+77000000299", "x", message_id)
    await provider[0].wait_for(message_id, reported=True)
    report = shop[0].calls[0]["body"]
    assert (report["status"], report["permanent"]) == ("failed", True)
    assert report["reason"] == "unreachable_number"


async def test_unsigned_or_forged_sends_are_refused(provider: tuple[SandboxSms, str]) -> None:
    sandbox, url = provider
    body = json.dumps({"message_id": "m", "sender": "Shop", "to": PHONE, "text": "x"}).encode()
    async with aiohttp.ClientSession() as http:
        for headers in ({}, signed_headers("wrong", body)):
            async with http.post(f"{url}/messages", data=body, headers=headers) as resp:
                assert resp.status == 401
        broken = b'{"message_id": "m"}'
        async with http.post(
            f"{url}/messages", data=broken, headers=signed_headers(SECRET, broken)
        ) as resp:
            assert resp.status == 400
    assert sandbox.messages == {}


async def test_callbacks_are_retried_with_the_same_event_until_accepted(
    provider: tuple[SandboxSms, str], shop: tuple[FakeShop, str], sms: SmsClient
) -> None:
    fake = shop[0]
    fake.answers = [503, 404]
    message_id = str(uuid.uuid4())
    await sms.send(PHONE, "x", message_id)
    record = await provider[0].wait_for(message_id, reported=True)
    assert record["report"] == "delivered" and record["report_answer"] == 200
    assert len(fake.calls) == 3
    assert len({call["body"]["event_id"] for call in fake.calls}) == 1


async def test_a_final_refusal_is_not_retried_and_giving_up_is_shown(
    provider: tuple[SandboxSms, str], shop: tuple[FakeShop, str]
) -> None:
    sandbox, _ = provider
    shop[0].answers = [422]
    assert await sandbox.inbound(PHONE, "STOP") == 422
    assert len(shop[0].calls) == 1
    shop[0].answers = [500, 500, 500]
    assert await sandbox.inbound(PHONE, "STOP") == 500
    assert len(shop[0].calls) == 4  # three more: the first try and two retries
    assert [t["status"] for t in sandbox.inbound_texts] == ["refused or gave up"] * 2


async def test_post_inbound_forwards_a_signed_text_to_the_shop(
    provider: tuple[SandboxSms, str], shop: tuple[FakeShop, str]
) -> None:
    url = provider[1]
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/inbound", data={"from": PHONE, "text": "СТОП"}) as resp:
            assert resp.status == 202
        async with http.post(f"{url}/inbound", json={"from": "nonsense", "text": "x"}) as resp:
            assert resp.status == 400
    for _ in range(100):
        if shop[0].calls:
            break
        await asyncio.sleep(0.02)
    [call] = shop[0].calls
    assert call["path"] == "/api/notifications/sms/inbound"
    inbound = call["body"]
    assert (inbound["from"], inbound["to"], inbound["text"]) == (PHONE, "Shop", "СТОП")
    assert set(inbound) == {"event_id", "from", "to", "text", "received_at"}


def test_the_command_line_needs_a_secret(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("SMS_SECRET", raising=False)
    with pytest.raises(SystemExit):
        parse_args([])
    args = parse_args(["--secret", "s", "--callback-base-url", "http://127.0.0.1:1"])
    assert (args.secret, args.http_port) == ("s", 8204)
