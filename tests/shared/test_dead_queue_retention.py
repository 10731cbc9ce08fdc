"""Dead-queue retention on a real broker: a parked message stays for an operator to replay for
the period, then goes, counted; nothing younger is lost or changed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from uuid import uuid4

import aio_pika
import asyncpg
import pytest

from shared.contracts import CustomerErased
from shared.db import create_pool
from shared.messaging import Consumer, PermanentFailure, declare_consumer_queues
from shared.messaging.dead import drop_dead_before
from shared.messaging.topology import PARKED_AT_HEADER, dead_queue_name
from shared.retention import dead_queue_sweep, run_one
from shared.settings import ServiceSettings
from tests.shared.messaging_helpers import drain, publish_event, queue_depth

DAY_MS = 24 * 3600 * 1000


@pytest.fixture
async def broker(fresh_vhost: str) -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(fresh_vhost)
    yield connection
    await connection.close()


async def _park(channel: aio_pika.abc.AbstractChannel, queue: str, body: bytes, **headers) -> None:
    await channel.default_exchange.publish(
        aio_pika.Message(body=body, message_id=str(uuid4()), type="t", headers=headers),
        routing_key=dead_queue_name(queue),
    )


async def test_old_parked_messages_go_and_the_others_stay(broker) -> None:
    queue = "probe.events"
    now_ms = int(time.time() * 1000)
    async with broker.channel(publisher_confirms=True) as channel:
        await declare_consumer_queues(channel, queue, [], retry_delays_ms=(100,), delivery_limit=5)
        await _park(channel, queue, b"old", **{PARKED_AT_HEADER: now_ms - 20 * DAY_MS})
        await _park(channel, queue, b"young", **{PARKED_AT_HEADER: now_ms - 1 * DAY_MS})
        await _park(channel, queue, b"undated")
        # One the broker dead-lettered itself (it dates it in x-death): a 1 ms TTL queue.
        expiring = await channel.declare_queue(
            f"{queue}.expiring",
            durable=True,
            arguments={
                "x-message-ttl": 1,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": dead_queue_name(queue),
            },
        )
        await channel.default_exchange.publish(
            aio_pika.Message(body=b"broker", message_id=str(uuid4())), routing_key=expiring.name
        )
    async with asyncio.timeout(10):
        while await queue_depth(broker, dead_queue_name(queue)) < 4:
            await asyncio.sleep(0.05)

    cutoff = datetime.now(UTC) - timedelta(days=14)
    assert await drop_dead_before(broker, queue, cutoff) == 1
    assert await drop_dead_before(broker, queue, cutoff) == 0  # nothing more is that old

    kept = await drain(broker, dead_queue_name(queue))
    assert sorted(m.body for m in kept) == [b"broker", b"undated", b"young"]
    stamps = {m.body: int(m.headers[PARKED_AT_HEADER]) for m in kept}  # type: ignore[arg-type]
    assert stamps[b"young"] == now_ms - DAY_MS  # its own date is kept
    assert stamps[b"undated"] >= now_ms  # dated from its first sweep on
    assert abs(stamps[b"broker"] - now_ms) < 60_000  # the broker's x-death time
    assert all(m.message_id for m in kept)  # the same messages, ids and all


async def test_a_parked_message_is_stamped_and_the_sweep_is_recorded(broker, make_database) -> None:
    dsn = await make_database("kit")
    pool: asyncpg.Pool = await create_pool(dsn, min_size=1, max_size=2)
    queue = f"t.{uuid4()}"

    async def refuse(conn, event, meta) -> None:
        raise PermanentFailure("cannot ever apply")

    consumer = Consumer(
        queue=queue,
        pool=pool,
        connection=broker,
        handlers={CustomerErased: refuse},
        retry_delays_ms=(50,),
        delivery_limit=5,
    )
    await consumer.start()
    try:
        await publish_event(
            broker,
            CustomerErased(customer_id=uuid4(), request_id=uuid4(), erased_at=datetime.now(UTC)),
            message_id=uuid4(),
        )
        async with asyncio.timeout(10):
            while await queue_depth(broker, dead_queue_name(queue)) < 1:
                await asyncio.sleep(0.05)
    finally:
        await consumer.stop()
    try:
        # The period is 14 days by default: kept. With a period of one day and the clock two
        # days on, the same sweep drops it, and the run record says one, nothing else.
        settings = ServiceSettings(database_url=dsn, dead_queue_retention_days=1)
        sweep = dead_queue_sweep(broker, queue)
        kept = await run_one(pool, sweep, ServiceSettings(database_url=dsn))
        assert kept.count == 0
        later = datetime.now(UTC) + timedelta(days=2)
        gone = await run_one(pool, sweep, settings, now=later)
        assert gone.count == 1
        assert await queue_depth(broker, dead_queue_name(queue)) == 0
        rows = await pool.fetch("SELECT kind, action, count FROM retention_runs ORDER BY id")
        assert [tuple(r) for r in rows] == [
            ("dead_queue_payloads", "delete", 0),
            ("dead_queue_payloads", "delete", 1),
        ]
    finally:
        await pool.close()
