"""The sandbox courier: real RabbitMQ in, a signed callback out."""

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

from deploy.sandbox_courier import SandboxCourier
from shared.contracts import DispatchCancelled, DispatchMessage
from shared.messaging import DISPATCH_EXCHANGE, declare_exchanges, encode_message
from shared.messaging.topology import courier_routing_key
from shared.service import running_app
from shared.signing import SignatureError, verify

SECRET = "courier-test-secret"
CALLS = web.AppKey("calls", list)
FAILS_LEFT = web.AppKey("fails_left", list)


def new_code() -> str:
    """A courier code of one test: its own queue in this run's vhost."""
    return f"t{uuid.uuid4().hex[:10]}"


def dispatch_message(courier: str) -> DispatchMessage:
    return DispatchMessage.model_validate(
        {
            "dispatch_id": str(uuid.uuid4()),
            "order_ref": "SH-000123",
            "courier": courier,
            "parcel": {"count": 2, "weight_g": 700},
            "cash_on_delivery": {"amount": 1_250_000, "currency": "KZT"},
            "recipient": {"name": "Айгерим Нурланова", "phone": "+77011234567"},
            "address": {
                "city": "Алматы",
                "street": "Абая",
                "house": "10",
                "apartment": "5",
                "postal_code": None,
                "comment": None,
            },
            "release_id": str(uuid.uuid4()),
        }
    )


async def publish(amqp_url: str, body: bytes, *, message_type: str, courier: str) -> None:
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await declare_exchanges(channel)
        exchange = await channel.get_exchange(DISPATCH_EXCHANGE)
        message = encode_message(
            body,
            message_id=uuid.uuid4(),
            message_type=message_type,
            correlation_id=None,
            traceparent=None,
        )
        await exchange.publish(message, routing_key=courier_routing_key(courier))


async def on_callback(request: web.Request) -> web.Response:
    body = await request.read()
    try:
        verify(SECRET, request.headers, body)
    except SignatureError:
        return web.json_response({"title": "bad signature"}, status=401)
    if request.app[FAILS_LEFT]:  # answer 503 a few times first, to exercise the retries
        request.app[FAILS_LEFT].pop()
        return web.json_response({"title": "try later"}, status=503)
    request.app[CALLS].append({"path": request.path, "body": json.loads(body)})
    return web.json_response({"status": "ok"})


@pytest.fixture
async def receiver() -> AsyncIterator[tuple[str, web.Application]]:
    app = web.Application()
    app[CALLS] = []
    app[FAILS_LEFT] = []
    app.router.add_post("/api/fulfilment/{courier}/callbacks", on_callback)
    async with running_app(app) as url:
        yield url, app


async def wait_until(predicate: Any, timeout: float = 10.0) -> None:
    async with asyncio.timeout(timeout):
        while not predicate():
            await asyncio.sleep(0.05)


async def test_receives_a_dispatch_and_confirms_it_with_a_signed_callback(
    amqp_url: str, receiver: tuple[str, web.Application]
) -> None:
    url, app = receiver
    app[FAILS_LEFT].extend([1, 1])  # the first two attempts fail, the third is accepted
    code = new_code()
    message = dispatch_message(code)
    courier = SandboxCourier(
        amqp_url,
        code,
        callback_base_url=url,
        secret=SECRET,
        confirm_delay_s=0.05,
        retry_delays_s=(0.05, 0.05, 0.05),
    )
    async with courier:
        await publish(
            amqp_url,
            message.model_dump_json().encode(),
            message_type=DispatchMessage.MESSAGE_TYPE,
            courier=code,
        )
        received = await courier.wait_for(1, timeout=10)
        assert received[0]["dispatch_id"] == str(message.dispatch_id)
        assert received[0]["recipient"] == {"name": "Айгерим Нурланова", "phone": "+77011234567"}
        await wait_until(lambda: len(app[CALLS]) == 1)
        await wait_until(lambda: received[0]["status"] == "delivered")
    call = app[CALLS][0]
    assert call["path"] == f"/api/fulfilment/{code}/callbacks"
    assert call["body"]["dispatch_id"] == str(message.dispatch_id)
    assert call["body"]["status"] == "delivered"
    assert uuid.UUID(call["body"]["event_id"])
    assert set(call["body"]) == {"event_id", "dispatch_id", "status"}
    assert received[0]["callback_attempts"] == 3


async def test_a_message_that_breaks_the_contract_is_dropped(
    amqp_url: str, receiver: tuple[str, web.Application]
) -> None:
    url, app = receiver
    code = new_code()
    extra = {**json.loads(dispatch_message(code).model_dump_json()), "email": "a@example.com"}
    good = dispatch_message(code)
    async with SandboxCourier(
        amqp_url, code, callback_base_url=url, secret=SECRET, auto_confirm=False
    ) as courier:
        for body in (json.dumps(extra).encode(), good.model_dump_json().encode()):
            await publish(amqp_url, body, message_type=DispatchMessage.MESSAGE_TYPE, courier=code)
        received = await courier.wait_for(1, timeout=10)
        await asyncio.sleep(0.2)
        assert [d["dispatch_id"] for d in received] == [str(good.dispatch_id)]
        assert received[0]["status"] == "received"
    assert app[CALLS] == []


async def test_http_views_and_manual_confirmation(
    amqp_url: str, receiver: tuple[str, web.Application]
) -> None:
    url, app = receiver
    code = new_code()
    message = dispatch_message(code)
    async with (
        SandboxCourier(
            amqp_url, code, callback_base_url=url, secret=SECRET, auto_confirm=False
        ) as courier,
        running_app(courier.create_app()) as courier_url,
        aiohttp.ClientSession() as client,
    ):
        await publish(
            amqp_url,
            message.model_dump_json().encode(),
            message_type=DispatchMessage.MESSAGE_TYPE,
            courier=code,
        )
        await courier.wait_for(1, timeout=10)
        async with client.get(f"{courier_url}/dispatches") as response:
            listed = await response.json()
        assert listed["items"][0]["dispatch_id"] == str(message.dispatch_id)
        async with client.get(f"{courier_url}/") as response:
            page = await response.text()
        assert "SH-000123" in page
        dispatch_id = message.dispatch_id
        async with client.post(f"{courier_url}/dispatches/{dispatch_id}/failed") as response:
            assert response.status == 202
        await wait_until(lambda: len(app[CALLS]) == 1)
    assert app[CALLS][0]["body"]["status"] == "failed"


def cancel_message(dispatch: DispatchMessage) -> DispatchCancelled:
    return DispatchCancelled(
        dispatch_id=dispatch.dispatch_id, order_ref=dispatch.order_ref, courier=dispatch.courier
    )


async def send(amqp_url: str, message: DispatchMessage | DispatchCancelled) -> None:
    await publish(
        amqp_url,
        message.model_dump_json().encode(),
        message_type=message.MESSAGE_TYPE,
        courier=message.courier,
    )


async def test_a_cancel_stops_the_pending_confirmation(
    amqp_url: str, receiver: tuple[str, web.Application]
) -> None:
    url, app = receiver
    code = new_code()
    first, second = dispatch_message(code), dispatch_message(code)
    async with (
        SandboxCourier(
            amqp_url, code, callback_base_url=url, secret=SECRET, confirm_delay_s=1.0
        ) as courier,
        running_app(courier.create_app()) as courier_url,
        aiohttp.ClientSession() as client,
    ):
        await send(amqp_url, first)
        await send(amqp_url, second)
        await courier.wait_for(2, timeout=10)
        pending = courier.find(str(first.dispatch_id))
        assert pending is not None and pending["status"] == "confirming delivered"
        await send(amqp_url, cancel_message(first))
        record = await courier.wait_for_status(str(first.dispatch_id), "cancelled", timeout=5)
        assert record["cancelled_at"]
        # The other dispatch is confirmed as usual; the cancelled one never is.
        await courier.wait_for_status(str(second.dispatch_id), "delivered", timeout=10)
        await asyncio.sleep(1.2)
        assert [c["body"]["dispatch_id"] for c in app[CALLS]] == [str(second.dispatch_id)]
        assert record["status"] == "cancelled" and "callback_attempts" not in record
        # A repeated cancel changes nothing; a manual confirmation is refused.
        await send(amqp_url, cancel_message(first))
        async with client.post(
            f"{courier_url}/dispatches/{first.dispatch_id}/delivered"
        ) as response:
            assert response.status == 409
        async with client.get(f"{courier_url}/dispatches") as response:
            listed = await response.json()
        statuses = {d["dispatch_id"]: d["status"] for d in listed["items"]}
        assert statuses == {
            str(first.dispatch_id): "cancelled",
            str(second.dispatch_id): "delivered",
        }
        async with client.get(f"{courier_url}/") as response:
            assert "cancelled by the shop, do not deliver" in await response.text()
    assert len(app[CALLS]) == 1


async def test_a_cancel_that_overtakes_its_dispatch_is_remembered(
    amqp_url: str, receiver: tuple[str, web.Application]
) -> None:
    url, app = receiver
    code = new_code()
    late = dispatch_message(code)
    async with (
        SandboxCourier(
            amqp_url, code, callback_base_url=url, secret=SECRET, confirm_delay_s=0.05
        ) as courier,
        running_app(courier.create_app()) as courier_url,
        aiohttp.ClientSession() as client,
    ):
        await send(amqp_url, cancel_message(late))
        await wait_until(lambda: str(late.dispatch_id) in courier.early_cancels)
        async with client.get(f"{courier_url}/dispatches") as response:
            listed = await response.json()
        assert [c["dispatch_id"] for c in listed["early_cancels"]] == [str(late.dispatch_id)]
        assert listed["items"] == []

        await send(amqp_url, late)
        received = await courier.wait_for(1, timeout=10)
        assert received[0]["status"] == "cancelled" and received[0]["cancelled_at"]
        assert courier.early_cancels == {}
        await asyncio.sleep(0.5)  # well past the confirmation delay
        assert received[0]["status"] == "cancelled"
    assert app[CALLS] == []


async def test_a_cancel_after_the_confirmation_is_only_noted(
    amqp_url: str, receiver: tuple[str, web.Application]
) -> None:
    url, app = receiver
    code = new_code()
    message = dispatch_message(code)
    async with SandboxCourier(
        amqp_url, code, callback_base_url=url, secret=SECRET, confirm_delay_s=0.05
    ) as courier:
        await send(amqp_url, message)
        await courier.wait_for(1, timeout=10)
        record = await courier.wait_for_status(str(message.dispatch_id), "delivered")
        await send(amqp_url, cancel_message(message))
        await wait_until(lambda: "cancel_after" in record)
        assert record["status"] == "delivered"
    assert len(app[CALLS]) == 1


async def test_messages_are_checked_by_their_type(
    amqp_url: str, receiver: tuple[str, web.Application]
) -> None:
    url, app = receiver
    code = new_code()
    dispatch, other = dispatch_message(code), dispatch_message(code)
    cancel = json.loads(cancel_message(dispatch).model_dump_json())
    async with SandboxCourier(
        amqp_url, code, callback_base_url=url, secret=SECRET, auto_confirm=False
    ) as courier:
        rejected = [
            # a cancel with personal data, one for another courier, a dispatch sent as a
            # cancel, a dispatch without a type, and an unknown type: all dropped
            ({**cancel, "phone": "+77011234567"}, DispatchCancelled.MESSAGE_TYPE),
            ({**cancel, "courier": "other"}, DispatchCancelled.MESSAGE_TYPE),
            (json.loads(dispatch.model_dump_json()), DispatchCancelled.MESSAGE_TYPE),
            (json.loads(other.model_dump_json()), ""),
            (cancel, "courier.something_else"),
        ]
        for body, message_type in rejected:
            await publish(
                amqp_url, json.dumps(body).encode(), message_type=message_type, courier=code
            )
        await send(amqp_url, dispatch)
        received = await courier.wait_for(1, timeout=10)
        await asyncio.sleep(0.3)
        assert [d["dispatch_id"] for d in received] == [str(dispatch.dispatch_id)]
        assert received[0]["status"] == "received" and courier.early_cancels == {}
    assert app[CALLS] == []
