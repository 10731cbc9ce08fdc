"""Erasure in notifications: on ``customers.customer.erased`` the customer's delivery log
is unlinked, a confirmation quoting only the request follows, and a later skip names nobody."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from uuid import UUID, uuid4

import aio_pika
import asyncpg

from services.notifications import suppression, unsubscribing
from services.notifications.data_map import DATA_MAP
from services.notifications.erasure import STEPS
from services.notifications.unsubscribe_links import Unsubscribe
from shared.contracts import CustomerErased, Money, OrderDelivered
from shared.data_map import Erasure
from shared.messaging import EVENTS_EXCHANGE, declare_exchanges
from tests.notifications.conftest import (
    CustomersStub,
    Mailing,
    Person,
    StartNotifications,
    all_table_text,
    deliveries,
    eventually,
    publish,
)


def delivered(customer_id: UUID, order_ref: str) -> OrderDelivered:
    return OrderDelivered(
        order_id=uuid4(),
        order_ref=order_ref,
        customer_id=customer_id,
        status="delivered",
        total=Money(amount=100_00),
    )


async def confirmations(
    amqp_url: str,
) -> tuple[aio_pika.abc.AbstractConnection, aio_pika.abc.AbstractQueue]:
    connection = await aio_pika.connect(amqp_url)
    channel = await connection.channel()
    await declare_exchanges(channel)
    queue = await channel.declare_queue(exclusive=True)
    await queue.bind(EVENTS_EXCHANGE, "notifications.customer.depersonalised")
    return connection, queue


async def next_body(queue: aio_pika.abc.AbstractQueue) -> dict[str, object]:
    async def one() -> aio_pika.abc.AbstractIncomingMessage | None:
        return await queue.get(no_ack=True, fail=False)

    message = await eventually(one)
    return dict(json.loads(message.body))


async def test_erasure_unlinks_the_delivery_log_and_confirms(
    mailing: Mailing,
) -> None:
    erased_one = mailing.stub.add(Person("erased.canary@example.kz", "Айгерим"))
    other = mailing.stub.add(Person("other@example.kz", "Other"))
    connection, queue = await confirmations(mailing.amqp_url)
    try:
        await mailing.publish(delivered(erased_one, "SH-4001"))
        await mailing.publish(delivered(other, "SH-4002"))
        await eventually(lambda: _count(mailing.dsn, 2))
        assert str(erased_one) in await all_table_text(mailing.dsn)

        request_id = uuid4()
        event = CustomerErased(
            customer_id=erased_one, request_id=request_id, erased_at=datetime.now(UTC)
        )
        await mailing.publish(event)
        assert await next_body(queue) == {"request_id": str(request_id), "deliveries_unlinked": 1}
        assert str(erased_one) not in await all_table_text(mailing.dsn)
        rows = {row["order_ref"]: row for row in await deliveries(mailing.dsn)}
        # Her mail stays in the log (what was sent, when), naming nobody.
        assert (rows["SH-4001"]["customer_id"], rows["SH-4001"]["release_id"]) == (None, None)
        assert rows["SH-4001"]["status"] == "sent"
        assert rows["SH-4002"]["customer_id"] == other and rows["SH-4002"]["release_id"]

        # A late event for her (a retried mail): customers no longer releases anything, and
        # the skip is logged without her id.
        del mailing.stub.people[erased_one]
        await mailing.publish(delivered(erased_one, "SH-4003"))
        skipped = await eventually(lambda: _skipped(mailing.dsn))
        assert skipped["customer_id"] is None and skipped["reason"] == "unknown_or_erased"

        # The same erasure again (another message id): nothing more to unlink.
        await mailing.publish(event)
        assert await next_body(queue) == {"request_id": str(request_id), "deliveries_unlinked": 0}
        assert str(erased_one) not in await all_table_text(mailing.dsn)
        assert len(mailing.sink.messages) == 2  # the two mails before; none for the late event
    finally:
        await connection.close()


async def _count(dsn: str, n: int) -> bool:
    return len(await deliveries(dsn)) >= n


async def _skipped(dsn: str) -> dict[str, object] | None:
    return next((row for row in await deliveries(dsn) if row["status"] == "skipped"), None)


def test_every_table_the_data_map_erases_has_a_step() -> None:
    changed = {
        h.table
        for h in DATA_MAP.holdings
        if h.erasure in (Erasure.DELETE, Erasure.DEPERSONALISE, Erasure.SHRED) and h.via is None
    }
    assert changed <= set(STEPS), f"no erasure step for {sorted(changed - set(STEPS))}"
    assert set(STEPS) <= set(DATA_MAP.tables())


async def test_erasure_forgets_unsubscribes_suppressions_and_their_events(
    start_notifications: StartNotifications, customers: tuple[CustomersStub, str]
) -> None:
    """What the channels kept of her (a used link, a suppression, the events they published)
    names her no more once the outbox has sent them."""
    app = await start_notifications()
    customer_id, other = uuid4(), uuid4()
    pool = await asyncpg.create_pool(app.dsn, min_size=1, max_size=2)
    try:
        for who in (customer_id, other):
            await unsubscribing.unsubscribe(pool, Unsubscribe(who, "email", None), "one_click")
            async with pool.acquire() as conn:
                await suppression.suppress(conn, who, "sms", "provider_rejected")

        async def all_sent() -> bool:
            async with pool.acquire() as conn:
                return not await conn.fetchval(
                    "SELECT count(*) FROM outbox WHERE published_at IS NULL"
                )

        await eventually(all_sent)  # else the erasure waits for them (retried), as it should
        event = CustomerErased(
            customer_id=customer_id, request_id=uuid4(), erased_at=datetime.now(UTC)
        )
        await publish(app.settings.amqp_url, event)

        async def forgotten() -> bool:
            return str(customer_id) not in await all_table_text(app.dsn)

        await eventually(forgotten, timeout=15)
        text = await all_table_text(app.dsn)
        assert str(other) in text  # the other customer's rows and events stay
    finally:
        await pool.close()
