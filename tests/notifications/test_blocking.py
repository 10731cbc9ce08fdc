"""Notifications learns blocking by event (its ``customer_blocks`` table) and sends a blocked
customer only what is owed: the status mail of an order (customers then decides whether that
order is an open obligation); the welcome mail (and marketing, once built) is skipped without
even asking for the address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from shared.contracts import (
    CustomerBlockChanged,
    CustomerBlocked,
    CustomerRegistered,
    CustomerUnblocked,
    Money,
    OrderDelivered,
)
from tests.notifications.conftest import (
    Mailing,
    Person,
    deliveries,
    eventually,
    publish,
)
from tests.shared.messaging_helpers import handled


def registered(customer_id: UUID) -> CustomerRegistered:
    return CustomerRegistered(
        customer_id=customer_id,
        locale="ru",
        policy_version="2026-11-01",
        marketing_email=False,
        marketing_sms=False,
    )


async def order_rows(dsn: str) -> list[dict[str, object]]:
    return [row for row in await deliveries(dsn) if row["kind"] == "order_delivered"]


async def learned(amqp_url: str, dsn: str, event: CustomerBlockChanged) -> None:
    await handled(dsn, await publish(amqp_url, event))


def block_event(customer_id: UUID, version: int, blocked: bool = True) -> CustomerBlockChanged:
    model = CustomerBlocked if blocked else CustomerUnblocked
    return model(customer_id=customer_id, version=version, at=datetime.now(UTC))


async def test_a_blocked_customer_gets_no_welcome_and_no_release_is_asked(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="blocked@mail.kz", first_name="Асель"))
    await learned(mailing.amqp_url, mailing.dsn, block_event(customer_id, 1))
    await handled(mailing.dsn, await mailing.publish(registered(customer_id)))

    [row] = [row for row in await deliveries(mailing.dsn) if row["kind"] == "welcome"]
    assert (row["kind"], row["status"], row["reason"]) == ("welcome", "skipped", "blocked")
    assert row["release_id"] is None and row["locale"] is None
    # The address was asked for the block's confirmation only, not for the welcome mail.
    assert [call.get("notice") for call in mailing.stub.calls] == ["block_confirmation"]
    assert [mail.subject for mail in mailing.sink.messages] == [
        "Обработка ваших данных приостановлена"
    ]


async def test_the_status_mail_of_an_order_still_goes_and_says_when_it_was_placed(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="order@mail.kz", first_name="Асель"))
    await learned(mailing.amqp_url, mailing.dsn, block_event(customer_id, 1))
    placed_at = datetime.now(UTC) - timedelta(hours=2)
    event = OrderDelivered(
        order_id=uuid4(),
        order_ref="SH-7007",
        customer_id=customer_id,
        status="delivered",
        total=Money(amount=500_000),
        placed_at=placed_at,
    )
    await mailing.publish(event)
    mail = await mailing.sink.wait_for(lambda m: "SH-7007" in m.subject, timeout=10)
    assert mail.rcpt_tos == ("order@mail.kz",)
    _confirmation, call = mailing.stub.calls
    assert call["order_ref"] == "SH-7007"
    assert datetime.fromisoformat(call["order_placed_at"]) == placed_at
    [row] = await eventually(lambda: order_rows(mailing.dsn))
    assert (row["kind"], row["status"]) == ("order_delivered", "sent")


async def test_block_events_out_of_order_or_twice_keep_the_newest(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="late@mail.kz", first_name="Асель"))
    amqp = mailing.amqp_url
    # Unblocked (version 2) arrives before blocked (version 1), then version 1 once more.
    for event in (
        block_event(customer_id, 2, blocked=False),
        block_event(customer_id, 1),
        block_event(customer_id, 1),
    ):
        await learned(amqp, mailing.dsn, event)
    conn = await asyncpg.connect(mailing.dsn)
    try:
        row = await conn.fetchrow("SELECT blocked, version FROM customer_blocks")
    finally:
        await conn.close()
    assert (row["blocked"], row["version"]) == (False, 2)
    await publish(amqp, registered(customer_id))
    mail = await mailing.sink.wait_for(lambda m: "Добро пожаловать" in m.subject, timeout=10)
    assert mail.subject
