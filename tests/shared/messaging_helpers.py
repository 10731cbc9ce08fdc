"""Small helpers for the messaging tests: a collecting consumer, publishing as a relay would,
and waiting for a consumer's inbox to record a message."""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import aio_pika
import asyncpg
from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection

from shared.contracts import Contract
from shared.messaging import EVENTS_EXCHANGE, declare_exchanges, encode_message


class Collector:
    """Consumes a test queue and counts message ids as they arrive (acked after counting)."""

    def __init__(self) -> None:
        self.seen: Counter[str] = Counter()
        self.bodies: list[bytes] = []
        self._changed = asyncio.Event()

    async def on_message(self, message: AbstractIncomingMessage) -> None:
        self.seen[message.message_id or ""] += 1
        self.bodies.append(message.body)
        await message.ack()
        self._changed.set()

    async def wait_for_distinct(self, count: int, timeout: float) -> None:
        async with asyncio.timeout(timeout):
            while len(self.seen) < count:
                self._changed.clear()
                await self._changed.wait()


@contextlib.asynccontextmanager
async def collecting(
    connection: AbstractRobustConnection, queue_name: str, routing_key: str
) -> AsyncIterator[Collector]:
    collector = Collector()
    channel = await connection.channel()
    await declare_exchanges(channel)
    queue = await channel.declare_queue(queue_name, durable=True)
    await queue.bind(EVENTS_EXCHANGE, routing_key)
    await queue.consume(collector.on_message)
    try:
        yield collector
    finally:
        with contextlib.suppress(Exception):
            await channel.close()


async def publish_event(
    connection: AbstractRobustConnection,
    event: Contract,
    *,
    message_id: UUID,
    body: bytes | None = None,
    message_type: str | None = None,
) -> None:
    async with connection.channel(publisher_confirms=True) as channel:
        await declare_exchanges(channel)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        await exchange.publish(
            encode_message(
                body if body is not None else event.model_dump_json().encode(),
                message_id=message_id,
                message_type=message_type or event.MESSAGE_TYPE,
                correlation_id=None,
                traceparent=None,
            ),
            routing_key=event.MESSAGE_TYPE,
        )


async def publish(amqp_url: str, event: Contract, message_id: UUID | None = None) -> UUID:
    """Publish ``event`` on shop.events as a service's outbox relay would; its message id."""
    message_id = message_id or uuid4()
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        await publish_event(connection, event, message_id=message_id)
    return message_id


async def handled(dsn: str, message_id: UUID, timeout: float = 10) -> None:
    """Wait until the consumer of the database at ``dsn`` has handled the message (its inbox
    row), so a test reads the effect only once it is there."""
    conn = await asyncpg.connect(dsn)
    try:
        async with asyncio.timeout(timeout):
            while not await conn.fetchval(
                "SELECT true FROM inbox WHERE message_id = $1", message_id
            ):
                await asyncio.sleep(0.05)
    finally:
        await conn.close()


async def queue_depth(connection: AbstractRobustConnection, name: str) -> int:
    async with connection.channel() as channel:
        queue = await channel.declare_queue(name, passive=True)
        return queue.declaration_result.message_count or 0


async def drain(connection: AbstractRobustConnection, name: str) -> list[aio_pika.IncomingMessage]:
    got: list[aio_pika.IncomingMessage] = []
    async with connection.channel() as channel:
        queue = await channel.declare_queue(name, passive=True)
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            got.append(message)  # type: ignore[arg-type]
    return got
