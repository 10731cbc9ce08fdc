"""DispatchRequested -> the courier's dispatch message, through a real broker."""

from __future__ import annotations

import asyncio
import json
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import pytest

from services.customers.app import build_accounts
from services.customers.messages import release_for_dispatch
from services.customers.request_models import RegisterRequest
from shared.contracts import DispatchMessage, DispatchRequested, Money, OrderCancelled, Parcel
from shared.db import create_pool
from shared.messaging import EVENTS_EXCHANGE, courier_queue_name, encode_message
from tests.customers.conftest import Keys, Shop, make_settings, registration
from tests.customers.test_privacy import PD_STRINGS


@pytest.fixture
def vhost(fresh_vhost: str) -> str:
    """These tests read the courier queue: they need a broker of their own."""
    return fresh_vhost


def request_for(customer_id: str | UUID, courier: str = "sandbox") -> DispatchRequested:
    return DispatchRequested(
        dispatch_id=uuid4(),
        order_id=uuid4(),
        order_ref="KZ-2002",
        customer_id=UUID(str(customer_id)),
        courier=courier,
        parcel=Parcel(count=2, weight_g=1500),
        cash_on_delivery=Money(amount=1_250_000),
    )


async def publish(url: str, event: DispatchRequested | OrderCancelled) -> None:
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel(publisher_confirms=True)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        await exchange.publish(
            encode_message(
                event.model_dump_json().encode(),
                message_id=uuid4(),
                message_type=event.MESSAGE_TYPE,
                correlation_id=None,
                traceparent=None,
            ),
            routing_key=event.MESSAGE_TYPE,
        )
    finally:
        await connection.close()


async def next_message(
    url: str, queue_name: str, timeout_s: float = 15
) -> aio_pika.abc.AbstractIncomingMessage:
    connection = await aio_pika.connect_robust(url)
    try:
        channel = await connection.channel()
        queue = await channel.get_queue(queue_name, ensure=True)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while asyncio.get_running_loop().time() < deadline:
            message = await queue.get(no_ack=True, fail=False)
            if message is not None:
                return message
            await asyncio.sleep(0.1)
        raise AssertionError(f"nothing arrived on {queue_name}")
    finally:
        await connection.close()


async def wait_for_outbox(shop: Shop, message_type: str, timeout_s: float = 15) -> dict[str, Any]:
    conn = await shop.db()
    try:
        for _ in range(int(timeout_s * 10)):
            row = await conn.fetchrow(
                "SELECT * FROM outbox WHERE message_type = $1 ORDER BY id DESC LIMIT 1",
                message_type,
            )
            if row is not None:
                return dict(row)
            await asyncio.sleep(0.1)
    finally:
        await conn.close()
    raise AssertionError(f"no {message_type} in the outbox")


async def test_dispatch_through_the_broker(shop: Shop) -> None:
    customer_id = await shop.register()
    event = request_for(customer_id)
    await publish(shop.settings.amqp_url, event)

    message = await next_message(shop.settings.amqp_url, courier_queue_name("sandbox"))
    assert message.type == DispatchMessage.MESSAGE_TYPE
    body = json.loads(message.body)
    assert set(body) == set(DispatchMessage.model_fields)
    assert set(body["recipient"]) == {"name", "phone"}
    assert set(body["address"]) == {
        "city",
        "street",
        "house",
        "apartment",
        "postal_code",
        "comment",
    }
    assert body["recipient"] == {"name": "Айгерим Жумабекова", "phone": "+77012345678"}
    assert body["address"]["city"] == "Шымкент" and body["address"]["apartment"] == "42"
    assert body["parcel"] == {"count": 2, "weight_g": 1500}
    assert body["cash_on_delivery"] == {"amount": 1_250_000, "currency": "KZT"}
    text = message.body.decode()
    for absent in ("example.kz", "Нурлановна", customer_id):
        assert absent not in text
    DispatchMessage.model_validate(body)

    released = await wait_for_outbox(shop, "customers.dispatch.released")
    assert json.loads(released["body"])["release_id"] == body["release_id"]
    sealed = await wait_for_outbox(shop, DispatchMessage.MESSAGE_TYPE)
    assert sealed["sealed"] is True and sealed["routing_key"] == "courier.sandbox"
    assert sealed["exchange"] == "shop.dispatch"
    for needle in PD_STRINGS:
        assert needle.encode() not in sealed["body"]

    token = await shop.login("aigerim.test@example.kz")
    status, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    assert status == 200
    (item,) = register["items"]
    assert item["recipient"] == "courier:sandbox" and item["purpose"] == "delivery"
    assert item["fields"] == ["delivery_address", "phone", "recipient_name"]
    assert item["order_ref"] == "KZ-2002" and item["release_id"] == body["release_id"]


async def test_dispatch_refused_for_unknown_customer(shop: Shop) -> None:
    event = request_for(uuid4())
    await publish(shop.settings.amqp_url, event)
    refused = await wait_for_outbox(shop, "customers.dispatch.refused")
    assert json.loads(refused["body"])["dispatch_id"] == str(event.dispatch_id)


async def test_a_cancelled_order_releases_nothing_to_the_courier(shop: Shop) -> None:
    customer_id = await shop.register()
    event = request_for(customer_id)
    cancelled = OrderCancelled(
        order_id=event.order_id,
        order_ref=event.order_ref,
        customer_id=event.customer_id,
        status="cancelled",
        total=Money(amount=1_250_000),
    )
    await publish(shop.settings.amqp_url, cancelled)
    conn = await shop.db()
    try:
        async with asyncio.timeout(10):
            while not await conn.fetchval(
                "SELECT true FROM cancelled_orders WHERE order_id = $1", event.order_id
            ):
                await asyncio.sleep(0.05)
    finally:
        await conn.close()
    await publish(shop.settings.amqp_url, event)
    refused = await wait_for_outbox(shop, "customers.dispatch.refused")
    assert json.loads(refused["body"]) == {
        "dispatch_id": str(event.dispatch_id),
        "order_id": str(event.order_id),
        "reason": "order_cancelled",
    }
    conn = await shop.db()
    try:
        assert not await conn.fetchval("SELECT count(*) FROM disclosures")
        assert not await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE message_type = $1", DispatchMessage.MESSAGE_TYPE
        )
    finally:
        await conn.close()


async def test_handler_seals_the_outbox_row(
    make_database: Any, keystore_dsn: str, vhost: str, signing_keys: tuple[str, str], keys: Keys
) -> None:
    """Without a relay the row stays: its body is sealed and opens to the contract."""
    dsn = await make_database("customers")
    settings = make_settings(dsn, vhost, signing_keys, keys, keystore_dsn)
    accounts = build_accounts(settings)
    cipher = accounts.vault.outbox_cipher
    pool = await create_pool(dsn, min_size=1, max_size=1)
    await accounts.gate.keys.open()
    try:
        async with pool.acquire() as conn:
            async with conn.transaction():
                customer_id = await accounts.register(
                    conn, RegisterRequest.model_validate(registration()), "x"
                )
            async with conn.transaction():
                await release_for_dispatch(
                    conn, request_for(customer_id), accounts.gate, cipher, settings.couriers
                )
            row = await conn.fetchrow("SELECT * FROM outbox WHERE routing_key = 'courier.sandbox'")
            async with conn.transaction():
                await release_for_dispatch(
                    conn,
                    request_for(customer_id, courier="unknown"),
                    accounts.gate,
                    cipher,
                    settings.couriers,
                )
            refused = await conn.fetchval(
                "SELECT body FROM outbox WHERE message_type = 'customers.dispatch.refused'"
            )
    finally:
        await accounts.gate.keys.close()
        await pool.close()
    assert row["sealed"] is True
    for needle in PD_STRINGS:
        assert needle.encode() not in row["body"]
    message = DispatchMessage.model_validate_json(cipher.open(row["body"]))
    assert message.recipient.phone == "+77012345678"
    assert json.loads(refused)["reason"] == "unknown_courier"


async def test_blocked_customer_is_refused(shop: Shop) -> None:
    customer_id = await shop.register()
    await shop.block(customer_id)
    await publish(shop.settings.amqp_url, request_for(customer_id))
    refused = await wait_for_outbox(shop, "customers.dispatch.refused")
    assert json.loads(refused["body"])["reason"] == "customer_blocked"
