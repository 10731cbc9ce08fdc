"""The inbox consumer: one effect per message, retries with back-off, a dead queue behind."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg
import pytest

from shared.contracts import CustomerErased
from shared.db import DbConn, create_pool
from shared.messaging import Consumer, IncomingMeta, PermanentFailure, replay_dead
from shared.messaging.__main__ import peek
from tests.shared.messaging_helpers import drain, publish_event, queue_depth


def erased(customer_id: UUID) -> CustomerErased:
    """The sample message: an erasure notice (its body names only ids)."""
    return CustomerErased(customer_id=customer_id, request_id=uuid4(), erased_at=datetime.now(UTC))


@pytest.fixture
async def pool(make_database) -> AsyncIterator[asyncpg.Pool]:
    dsn = await make_database("kit")
    pool = await create_pool(dsn)
    await pool.execute("CREATE TABLE effects (customer_id uuid NOT NULL, message_id uuid NOT NULL)")
    yield pool
    await pool.close()


class Handler:
    """Records an effect; fails for the customers listed in ``failing``."""

    def __init__(self) -> None:
        self.failing: set[UUID] = set()
        self.refusing: set[UUID] = set()
        self.calls = 0

    async def __call__(self, conn: DbConn, event: CustomerErased, meta: IncomingMeta) -> None:
        self.calls += 1
        await conn.execute(
            "INSERT INTO effects VALUES ($1, $2)", event.customer_id, meta.message_id
        )
        if event.customer_id in self.refusing:
            raise PermanentFailure("cannot ever apply")
        if event.customer_id in self.failing:
            raise RuntimeError("downstream unavailable")


async def started(pool, connection, handler, queue: str) -> Consumer:
    consumer = Consumer(
        queue=queue,
        pool=pool,
        connection=connection,
        handlers={CustomerErased: handler},
        retry_delays_ms=(50, 100),
        delivery_limit=5,
    )
    await consumer.start()
    return consumer


async def effects(pool: asyncpg.Pool) -> list[UUID]:
    return [r["customer_id"] for r in await pool.fetch("SELECT customer_id FROM effects")]


async def eventually(check, timeout: float = 10) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.05)


async def test_a_redelivered_message_has_one_effect(pool, amqp):
    handler = Handler()
    consumer = await started(pool, amqp, handler, f"t.{uuid4()}")
    try:
        event, message_id = erased(uuid4()), uuid4()
        for _ in range(3):
            await publish_event(amqp, event, message_id=message_id)
        other = erased(uuid4())
        await publish_event(amqp, other, message_id=uuid4())

        async def both_seen() -> bool:
            return handler.calls >= 2 and other.customer_id in await effects(pool)

        await eventually(both_seen)
        await asyncio.sleep(0.3)
    finally:
        await consumer.stop()
    assert sorted(map(str, await effects(pool))) == sorted(
        [str(event.customer_id), str(other.customer_id)]
    )


async def test_failing_message_retries_then_parks_while_the_queue_flows(pool, amqp, amqp_url):
    handler = Handler()
    queue = f"t.{uuid4()}"
    consumer = await started(pool, amqp, handler, queue)
    try:
        bad = erased(uuid4())
        handler.failing.add(bad.customer_id)
        await publish_event(amqp, bad, message_id=uuid4())
        good = [erased(uuid4()) for _ in range(20)]
        for event in good:
            await publish_event(amqp, event, message_id=uuid4())

        async def parked() -> bool:
            return await queue_depth(amqp, f"{queue}.dead") == 1

        await eventually(parked)
        # Every good message went through while the bad one was retrying.
        assert set(await effects(pool)) == {e.customer_id for e in good}
        # Tried once, then once per retry tier; each attempt rolled back its effect.
        assert handler.calls == 20 + 3

        # The operator sees what is parked and why, without taking it off the queue ...
        listing = await peek(amqp_url, queue, limit=10)
        assert len(listing) == 1 and "downstream" not in listing[0]
        assert "attempts=2" in listing[0] and "RuntimeError" in listing[0]
        assert await queue_depth(amqp, f"{queue}.dead") == 1
        # ... and once the cause is fixed, replays it: it applies once.
        handler.failing.clear()
        assert await replay_dead(amqp, queue) == 1

        async def applied() -> bool:
            return bad.customer_id in await effects(pool)

        await eventually(applied)
    finally:
        await consumer.stop()
    assert await queue_depth(amqp, f"{queue}.dead") == 0


async def test_permanent_failure_and_poison_go_straight_to_the_dead_queue(pool, amqp):
    handler = Handler()
    queue = f"t.{uuid4()}"
    consumer = await started(pool, amqp, handler, queue)
    try:
        refused = erased(uuid4())
        handler.refusing.add(refused.customer_id)
        await publish_event(amqp, refused, message_id=uuid4())
        # A body that breaks its contract, carrying something that looks like PD.
        await publish_event(
            amqp,
            refused,
            message_id=uuid4(),
            body=b'{"customer_id": "not-a-uuid", "email": "aigul@example.kz"}',
        )
        after = erased(uuid4())
        await publish_event(amqp, after, message_id=uuid4())

        async def both_parked() -> bool:
            return await queue_depth(amqp, f"{queue}.dead") == 2

        async def after_applied() -> bool:  # handled concurrently: it may finish last
            return bool(await effects(pool))

        await eventually(both_parked)
        await eventually(after_applied)
        assert await effects(pool) == [after.customer_id]
        assert handler.calls == 2
    finally:
        await consumer.stop()
    parked = await drain(amqp, f"{queue}.dead")
    reasons = sorted(str(m.headers["x-shop-error"]) for m in parked)
    assert reasons[0].startswith("body does not match CustomerErased: ['customer_id'")
    assert reasons[1] == "refused: cannot ever apply"
    assert all("aigul" not in reason for reason in reasons)
