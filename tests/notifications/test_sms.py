"""The SMS provider client against an HTTP provider that checks the signature and answers
as it is told: accepted, idempotent by message id, refused, broken or slow."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any
from uuid import uuid4

import aiohttp
import pytest
from aiohttp import web

from services.notifications.sms import SmsClient, SmsRejected, SmsUnavailable
from shared.service import running_app
from shared.signing import SignatureError, verify

SECRET = "sms-test-secret"
PHONE = "+77011234567"
TEXT = "Скидка 20% на чай до воскресенья"


@dataclass
class Provider:
    """Answers ``answer`` (status, body) unless None: then accepts, once per message id."""

    answer: tuple[int, Any] | None = None
    delay_s: float = 0.0
    sent: dict[str, dict[str, Any]] = field(default_factory=dict)
    requests: int = 0

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/messages", self.take)
        return app

    async def take(self, request: web.Request) -> web.StreamResponse:
        self.requests += 1
        body = await request.read()
        try:
            verify(SECRET, request.headers, body)
        except SignatureError:
            return web.json_response({"error": "unsigned"}, status=401)
        await asyncio.sleep(self.delay_s)
        if self.answer is not None:
            status, payload = self.answer
            if isinstance(payload, bytes):
                return web.Response(body=payload, status=status, content_type="application/json")
            return web.json_response(payload, status=status)
        message = await request.json()
        first = message["message_id"] not in self.sent
        record = self.sent.setdefault(message["message_id"], {**message, "id": f"p-{uuid4()}"})
        return web.json_response(
            {"id": record["id"], "status": "accepted"}, status=201 if first else 200
        )


@pytest.fixture
async def provider() -> AsyncIterator[tuple[Provider, str]]:
    stub = Provider()
    async with running_app(stub.app()) as url:
        yield stub, url


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def client(http: aiohttp.ClientSession, url: str, secret: str = SECRET) -> SmsClient:
    return SmsClient(http, url, secret, "Shop", timeout_s=0.5)


async def test_a_send_is_signed_and_answers_the_providers_id(
    provider: tuple[Provider, str], http: aiohttp.ClientSession
) -> None:
    stub, url = provider
    message_id = uuid4()
    provider_id = await client(http, url).send(PHONE, TEXT, message_id)
    record = stub.sent[str(message_id)]
    assert provider_id == record["id"]
    assert (record["to"], record["text"], record["sender"]) == (PHONE, TEXT, "Shop")


async def test_the_same_message_id_is_sent_once(
    provider: tuple[Provider, str], http: aiohttp.ClientSession
) -> None:
    stub, url = provider
    message_id = uuid4()
    first = await client(http, url).send(PHONE, TEXT, message_id)
    again = await client(http, url).send(PHONE, TEXT, message_id)
    assert first == again
    assert len(stub.sent) == 1


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        ({"error": "invalid_number", "detail": PHONE}, "invalid_number"),
        ({"error": "blocked"}, "blocked"),
        ({"error": f"no such subscriber {PHONE}"}, "rejected"),
        (b"not json", "rejected"),
    ],
)
async def test_a_permanent_refusal_is_rejected_with_a_code(
    provider: tuple[Provider, str], http: aiohttp.ClientSession, payload: Any, reason: str
) -> None:
    stub, url = provider
    stub.answer = (422, payload)
    with pytest.raises(SmsRejected) as raised:
        await client(http, url).send(PHONE, TEXT, uuid4())
    assert raised.value.reason == reason
    assert PHONE not in str(raised.value) and TEXT not in str(raised.value)


@pytest.mark.parametrize(
    "answer",
    [
        (500, {"error": f"down {PHONE}"}),
        (503, {"error": "busy"}),
        (429, {"error": "slow down"}),
        (200, {"status": "accepted"}),  # no id
        (200, b"<html>" + PHONE.encode()),
        (201, {"id": ""}),
    ],
)
async def test_a_transient_failure_is_unavailable_quoting_nothing(
    provider: tuple[Provider, str], http: aiohttp.ClientSession, answer: tuple[int, Any]
) -> None:
    stub, url = provider
    stub.answer = answer
    with pytest.raises(SmsUnavailable) as raised:
        await client(http, url).send(PHONE, TEXT, uuid4())
    assert PHONE not in str(raised.value) and TEXT not in str(raised.value)


async def test_a_wrong_secret_is_not_blamed_on_the_number(
    provider: tuple[Provider, str], http: aiohttp.ClientSession
) -> None:
    stub, url = provider
    with pytest.raises(SmsUnavailable):
        await client(http, url, secret="wrong").send(PHONE, TEXT, uuid4())
    assert stub.sent == {}


async def test_a_slow_provider_times_out_as_unavailable(
    provider: tuple[Provider, str], http: aiohttp.ClientSession
) -> None:
    stub, url = provider
    stub.delay_s = 2.0
    with pytest.raises(SmsUnavailable):
        await client(http, url).send(PHONE, TEXT, uuid4())


async def test_a_provider_that_is_away_is_unavailable(http: aiohttp.ClientSession) -> None:
    from deploy.gateway import free_port

    with pytest.raises(SmsUnavailable):
        await client(http, f"http://127.0.0.1:{free_port()}").send(PHONE, TEXT, uuid4())
