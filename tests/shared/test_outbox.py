"""The outbox relay delivers every committed message, through crashes and broker trouble."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import pytest

from shared.contracts import CustomerErased
from shared.db import DbConn, create_pool
from shared.messaging import OutboxRelay, enqueue
from tests.shared.messaging_helpers import collecting

ROUTING_KEY = CustomerErased.MESSAGE_TYPE


def erased(customer_id: UUID) -> CustomerErased:
    """The sample message: an erasure notice (its body names only ids)."""
    return CustomerErased(customer_id=customer_id, request_id=uuid4(), erased_at=datetime.now(UTC))


@pytest.fixture
async def outbox_db(make_database) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    dsn = await make_database("kit")
    pool = await create_pool(dsn, max_size=8)
    yield dsn, pool
    await pool.close()


async def write_messages(pool: asyncpg.Pool, count: int, per_tx: int = 50) -> set[str]:
    ids: set[str] = set()
    for start in range(0, count, per_tx):
        async with pool.acquire() as conn, conn.transaction():
            for _ in range(min(per_tx, count - start)):
                ids.add(str(await enqueue(conn, erased(uuid4()))))
    return ids


async def all_marked(pool: asyncpg.Pool, timeout: float = 10) -> bool:
    """Wait until the relay has marked every row published (it marks after confirms)."""
    async with asyncio.timeout(timeout):
        while await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
            await asyncio.sleep(0.05)
    return True


@contextlib.asynccontextmanager
async def running(relay: OutboxRelay) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(relay.run())
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError, RuntimeError):
            await task


async def test_committed_messages_arrive_and_rolled_back_ones_do_not(outbox_db, amqp):
    dsn, pool = outbox_db
    async with collecting(amqp, f"t.{uuid4()}", ROUTING_KEY) as collector:
        async with running(OutboxRelay(pool, amqp, dsn=dsn, batch_size=50)):
            expected = await write_messages(pool, 120)
            with contextlib.suppress(RuntimeError):
                async with pool.acquire() as conn, conn.transaction():
                    ghost = await enqueue(conn, erased(uuid4()))
                    raise RuntimeError("business transaction fails")
            await collector.wait_for_distinct(len(expected), timeout=20)
            assert await all_marked(pool)
            await asyncio.sleep(0.3)
    assert set(collector.seen) == expected
    assert str(ghost) not in collector.seen


async def test_relay_wakes_on_notify_not_only_on_poll(outbox_db, amqp):
    dsn, pool = outbox_db
    async with collecting(amqp, f"t.{uuid4()}", ROUTING_KEY) as collector:
        # With a one-minute poll, only LISTEN/NOTIFY can deliver within the timeout.
        async with running(OutboxRelay(pool, amqp, dsn=dsn, poll_interval_s=60)):
            await asyncio.sleep(0.3)
            expected = await write_messages(pool, 5)
            await collector.wait_for_distinct(5, timeout=5)
    assert set(collector.seen) == expected


class RelayKilled(BaseException):
    """Like a SIGKILL: nothing in the relay may catch it."""


class KilledAfterPublish(OutboxRelay):
    """A relay that dies after its first publish, before it can mark the rows."""

    async def _mark_published(self, conn: DbConn, ids: list[int]) -> None:
        raise RelayKilled("relay process killed between publish and mark")


async def test_relay_killed_between_publish_and_mark_loses_nothing(outbox_db, amqp):
    dsn, pool = outbox_db
    expected = await write_messages(pool, 100)
    async with collecting(amqp, f"t.{uuid4()}", ROUTING_KEY) as collector:
        doomed = KilledAfterPublish(pool, amqp, dsn=dsn, batch_size=40, pipeline=1)
        with pytest.raises(RelayKilled):
            await doomed.run()
        await collector.wait_for_distinct(40, timeout=10)
        assert await pool.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL") == 100

        async with running(OutboxRelay(pool, amqp, dsn=dsn, batch_size=40)):
            await collector.wait_for_distinct(100, timeout=20)
    assert set(collector.seen) == expected
    # The batch in flight at the crash went out twice: at-least-once, deduplicated by inboxes.
    assert sum(1 for n in collector.seen.values() if n > 1) == 40


async def test_broker_connections_closed_mid_batch_lose_nothing(outbox_db, fresh_vhost, servers):
    dsn, pool = outbox_db
    vhost = fresh_vhost.rsplit("/", 1)[1]
    connection = await aio_pika.connect_robust(fresh_vhost, reconnect_interval=0.2)
    try:
        expected = await write_messages(pool, 3000, per_tx=200)
        async with collecting(connection, f"t.{uuid4()}", ROUTING_KEY) as collector:
            async with running(OutboxRelay(pool, connection, dsn=dsn, batch_size=100)):
                await collector.wait_for_distinct(300, timeout=20)
                assert len(collector.seen) < 3000, "closing must happen mid-stream"
                subprocess.run(
                    [*servers.rabbitmqctl, "close_all_connections", "-p", vhost, "test"],
                    check=True,
                    capture_output=True,
                )
                await collector.wait_for_distinct(3000, timeout=60)
                assert await all_marked(pool)
        assert set(collector.seen) == expected
    finally:
        await connection.close()


async def test_two_relays_share_the_work_without_losing_messages(outbox_db, amqp):
    dsn, pool = outbox_db
    expected = await write_messages(pool, 1000, per_tx=100)
    async with collecting(amqp, f"t.{uuid4()}", ROUTING_KEY) as collector:
        async with (
            running(OutboxRelay(pool, amqp, dsn=dsn, batch_size=50)),
            running(OutboxRelay(pool, amqp, dsn=dsn, batch_size=50)),
        ):
            await collector.wait_for_distinct(1000, timeout=30)
            await asyncio.sleep(0.3)
    assert set(collector.seen) == expected
    # SKIP LOCKED: no row is published by both relays.
    assert max(collector.seen.values()) == 1


class ReversibleCipher:
    """Stands in for the customers service's AES-GCM cipher (tested with the vault)."""

    def seal(self, plaintext: bytes) -> bytes:
        return bytes(b ^ 0x5A for b in plaintext)

    def open(self, sealed: bytes) -> bytes:
        return bytes(b ^ 0x5A for b in sealed)


async def test_sealed_bodies_are_opened_for_publishing_and_wiped_after(outbox_db, amqp):
    dsn, pool = outbox_db
    cipher = ReversibleCipher()
    customer = uuid4()
    async with pool.acquire() as conn, conn.transaction():
        await enqueue(conn, erased(customer), cipher=cipher)
    stored = await pool.fetchval("SELECT body FROM outbox")
    assert str(customer).encode() not in stored
    async with collecting(amqp, f"t.{uuid4()}", ROUTING_KEY) as collector:
        async with running(OutboxRelay(pool, amqp, dsn=dsn, cipher=cipher)):
            await collector.wait_for_distinct(1, timeout=5)
            assert await all_marked(pool)
    assert CustomerErased.model_validate_json(collector.bodies[0]).customer_id == customer
    assert await pool.fetchval("SELECT body FROM outbox") == b""


async def test_published_rows_are_purged_after_retention(outbox_db, amqp):
    dsn, pool = outbox_db
    await write_messages(pool, 3)
    relay = OutboxRelay(pool, amqp, dsn=dsn, retention_s=3600)
    assert await relay.publish_batch() == 3
    await pool.execute("UPDATE outbox SET published_at = now() - interval '2 hours' WHERE id < 3")
    assert await relay.purge() == 2
    assert await pool.fetchval("SELECT count(*) FROM outbox") == 1
