"""The sandbox bank: real RabbitMQ in, a hosted payment page, signed callbacks out."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator
from typing import Any

import aio_pika
import aiohttp
import pytest
from aiohttp import web

from deploy.sandbox_bank import SandboxBank, parse_args
from shared.contracts import PaymentRequested, RefundRequested
from shared.messaging import PAYMENTS_EXCHANGE, declare_exchanges, encode_message
from shared.service import running_app
from shared.signing import verify

SECRET = "bank-test-secret"
CALLS = web.AppKey("calls", list)


def new_code() -> str:
    return f"t{uuid.uuid4().hex[:10]}"


async def publish(amqp_url: str, body: bytes, *, message_type: str, code: str) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await declare_exchanges(channel)
        exchange = await channel.get_exchange(PAYMENTS_EXCHANGE)
        message = encode_message(
            body, message_id=uuid.uuid4(), message_type=message_type, correlation_id=None,
            traceparent=None,
        )  # fmt: skip
        await exchange.publish(message, routing_key=f"bank.{code}")


@pytest.fixture
async def shop() -> AsyncIterator[tuple[str, list[dict[str, Any]]]]:
    """A stand-in for the shop's callback route: checks the signature, records the body."""
    calls: list[dict[str, Any]] = []

    async def callback(request: web.Request) -> web.Response:
        raw = await request.read()
        verify(SECRET, request.headers, raw)
        calls.append({"path": request.path, "body": json.loads(raw)})
        return web.json_response({"result": "applied"})

    app = web.Application()
    app[CALLS] = calls
    app.router.add_post("/api/payments/{bank}/callbacks", callback)
    async with running_app(app) as url:
        yield url, calls


def payment(**extra: Any) -> dict[str, Any]:
    return {
        "payment_id": str(uuid.uuid4()),
        "order_ref": "A7K2-9QX4",
        "amount": 1_250_000,
        "currency": "KZT",
        "description": "Заказ A7K2-9QX4",
        "return_url": "http://localhost:8080/account/orders/x",
        **extra,
    }


async def test_the_page_pays_and_the_shop_gets_a_signed_callback(
    amqp_url: str, shop: tuple[str, list[dict[str, Any]]]
) -> None:
    url, calls = shop
    code = new_code()
    request = payment()
    async with SandboxBank(amqp_url, code, callback_base_url=url, secret=SECRET) as bank:
        PaymentRequested.model_validate(request)
        await publish(
            amqp_url, json.dumps(request).encode(), message_type=PaymentRequested.MESSAGE_TYPE,
            code=code,
        )  # fmt: skip
        record = await bank.wait_for(request["payment_id"])
        assert record["request"] == request
        async with running_app(bank.create_app()) as bank_url, aiohttp.ClientSession() as http:
            async with http.get(f"{bank_url}/pay/{request['payment_id']}") as page:
                text = await page.text()
                assert page.status == 200 and "Pay" in text and "12500.00 KZT" in text
            async with http.post(f"{bank_url}/pay/{request['payment_id']}/pay") as done:
                assert done.status == 200
            async with http.get(f"{bank_url}/pay/{uuid.uuid4()}") as missing:
                assert missing.status == 404
    assert len(calls) == 1
    assert calls[0]["path"] == f"/api/payments/{code}/callbacks"
    body = calls[0]["body"]
    assert set(body) == {"event_id", "payment_id", "status", "amount", "currency"}
    assert (body["payment_id"], body["status"], body["amount"], body["currency"]) == (
        request["payment_id"], "succeeded", 1_250_000, "KZT",
    )  # fmt: skip


async def test_auto_decline_refunds_and_contract_breaches(
    amqp_url: str, shop: tuple[str, list[dict[str, Any]]]
) -> None:
    url, calls = shop
    code = new_code()
    async with SandboxBank(
        amqp_url, code, callback_base_url=url, secret=SECRET, auto_pay="decline", delay_s=0
    ) as bank:
        leaky = payment(customer_id=str(uuid.uuid4()))
        await publish(
            amqp_url, json.dumps(leaky).encode(), message_type=PaymentRequested.MESSAGE_TYPE,
            code=code,
        )  # fmt: skip
        declined = payment()
        await publish(
            amqp_url, json.dumps(declined).encode(), message_type=PaymentRequested.MESSAGE_TYPE,
            code=code,
        )  # fmt: skip
        await bank.wait_for(declined["payment_id"])
        refund = RefundRequested(
            payment_id=uuid.uuid4(), order_ref="B2C3-D4E5", amount=5_000
        ).model_dump_json()
        await publish(
            amqp_url, refund.encode(), message_type=RefundRequested.MESSAGE_TYPE, code=code
        )
        async with asyncio.timeout(5):
            while len(calls) < 2:
                await asyncio.sleep(0.05)
        assert leaky["payment_id"] not in bank.payments  # a request with PD is refused
    statuses = sorted(c["body"]["status"] for c in calls)
    assert statuses == ["declined", "refunded"]
    refunded = next(c["body"] for c in calls if c["body"]["status"] == "refunded")
    assert refunded["amount"] == 5_000


def test_options_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BANK_SECRET", "s")
    monkeypatch.setenv("AUTO_PAY", "succeed")
    args = parse_args(["--http-port", "8203"])
    assert (args.secret, args.auto_pay, args.code) == ("s", "succeed", "sandbox")
    assert args.public_url == "http://localhost:8203"
