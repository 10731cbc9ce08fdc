"""The inbox consumer: each message handled once, in one transaction with its effects.

A handler gets a connection inside an open transaction where the message id is already
recorded in the inbox; whatever it writes (its state, its outbox rows) commits together with
that record, so a redelivered message finds its id and changes nothing. A failing handler
rolls everything back; the message goes to the next retry tier, then to the dead queue.
A message that cannot be decoded goes to the dead queue at once: it never blocks the queue.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from typing import TYPE_CHECKING, Any

import aio_pika
import asyncpg
import structlog
from aio_pika.abc import (
    AbstractChannel,
    AbstractIncomingMessage,
    AbstractQueue,
    AbstractRobustConnection,
)
from aiohttp import web

from shared.contracts import Contract
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging.dead import parked_now
from shared.messaging.envelope import Decoded, PoisonMessage, copy_message, decode_message
from shared.messaging.supervisor import ConsumerSupervisor, close_quietly, open_channel
from shared.messaging.topology import (
    ATTEMPT_HEADER,
    EVENTS_EXCHANGE,
    PARKED_AT_HEADER,
    dead_queue_name,
    declare_consumer_queues,
    quorum_arguments,
    retry_queue_name,
)
from shared.telemetry import continued

if TYPE_CHECKING:  # shared.metrics imports the messaging package
    from shared.metrics import ConsumerCounters

log = get_logger("shared.consumer")

IncomingMeta = Decoded
Handler = Callable[[DbConn, Any, IncomingMeta], Awaitable[None]]


class PermanentFailure(Exception):
    """Raised by a handler when retrying cannot help: the message is parked at once."""


class Consumer:
    def __init__(
        self,
        *,
        queue: str,
        pool: asyncpg.Pool,
        connection: AbstractRobustConnection,
        handlers: Mapping[type[Contract], Handler],
        retry_delays_ms: tuple[int, ...],
        delivery_limit: int,
        exchange: str = EVENTS_EXCHANGE,
        prefetch: int = 32,
        counters: ConsumerCounters | None = None,
    ) -> None:
        self.queue_name = queue
        self._pool = pool
        self._connection = connection
        self._handlers = {model.MESSAGE_TYPE: handler for model, handler in handlers.items()}
        self._bindings = [(exchange, model.MESSAGE_TYPE) for model in handlers]
        self._retry_delays_ms = retry_delays_ms
        self._delivery_limit = delivery_limit
        self._prefetch = prefetch
        self._counters = counters
        self._supervisor = ConsumerSupervisor(connection, queue, self._consume)
        self._publish_channel: AbstractChannel | None = None
        self._publish_lock = asyncio.Lock()
        self._queue: AbstractQueue | None = None
        self._tag: str | None = None
        self._in_flight: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        await self._supervisor.start()

    async def _consume(self, channel: AbstractChannel) -> None:
        """Declare the queues and consume: again on a new channel after any loss."""
        await channel.set_qos(prefetch_count=self._prefetch)
        self._queue = await declare_consumer_queues(
            channel,
            self.queue_name,
            self._bindings,
            retry_delays_ms=self._retry_delays_ms,
            delivery_limit=self._delivery_limit,
        )
        self._tag = await self._queue.consume(self._on_message)

    async def stop(self) -> None:
        if self._queue is not None and self._tag is not None:
            with contextlib.suppress(Exception):
                await asyncio.wait_for(self._queue.cancel(self._tag), 2)
        if self._in_flight:
            await asyncio.gather(*self._in_flight, return_exceptions=True)
        await self._supervisor.stop()
        await close_quietly(self._publish_channel)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        task = asyncio.current_task()
        if task is not None:
            self._in_flight.add(task)
        try:
            with continued(message.headers or {}):
                await self._process(message)
        finally:
            if task is not None:
                self._in_flight.discard(task)

    async def _process(self, message: AbstractIncomingMessage) -> None:
        structlog.contextvars.clear_contextvars()
        try:
            decoded = decode_message(message)
        except PoisonMessage as exc:
            await self._park(message, reason=str(exc), attempt=0)
            return
        structlog.contextvars.bind_contextvars(
            message_id=str(decoded.message_id), message_type=decoded.message_type
        )
        handler = self._handlers.get(decoded.message_type)
        if handler is None:
            await self._park(message, reason="no handler for this type", attempt=decoded.attempt)
            return
        try:
            await self._handle_once(handler, decoded)
        except PermanentFailure as exc:
            log.warning("message refused", error=type(exc).__name__, reason=str(exc))
            await self._park(message, reason=f"refused: {exc}", attempt=decoded.attempt)
            return
        except Exception as exc:
            log.warning("handler failed", error=type(exc).__name__, attempt=decoded.attempt)
            await self._retry_or_park(message, decoded.attempt, type(exc).__name__)
            return
        await message.ack()
        if self._counters is not None:
            self._counters.handled.inc()

    async def _handle_once(self, handler: Handler, decoded: Decoded) -> None:
        async with self._pool.acquire() as conn, conn.transaction():
            fresh = await conn.fetchval(
                "INSERT INTO inbox (consumer, message_id, message_type) VALUES ($1, $2, $3)"
                " ON CONFLICT DO NOTHING RETURNING true",
                self.queue_name,
                decoded.message_id,
                decoded.message_type,
            )
            if not fresh:
                log.info("duplicate message skipped")
                return
            await handler(conn, decoded.body, decoded)

    async def _retry_or_park(
        self, message: AbstractIncomingMessage, attempt: int, error: str
    ) -> None:
        if attempt >= len(self._retry_delays_ms):
            reason = f"failed {attempt + 1} times: {error}"
            await self._park(message, reason=reason, attempt=attempt)
            return
        await self._republish(message, retry_queue_name(self.queue_name, attempt), attempt + 1, {})
        await message.ack()
        if self._counters is not None:
            self._counters.retried.inc()

    async def _park(self, message: AbstractIncomingMessage, *, reason: str, attempt: int) -> None:
        log.error("message parked in dead queue", reason=reason, queue=self.queue_name)
        await self._republish(
            message,
            dead_queue_name(self.queue_name),
            attempt,
            {"x-shop-error": reason[:500], PARKED_AT_HEADER: parked_now()},
        )
        await message.ack()
        if self._counters is not None:
            self._counters.parked.inc()

    async def _republish(
        self,
        message: AbstractIncomingMessage,
        routing_key: str,
        attempt: int,
        extra_headers: dict[str, aio_pika.abc.FieldValue],
    ) -> None:
        """Publish a copy with confirms before the original is acked: nothing is lost."""
        channel = await self._confirming_channel()
        headers = dict(message.headers or {})
        headers[ATTEMPT_HEADER] = attempt
        headers.update(extra_headers)
        await channel.default_exchange.publish(
            copy_message(message, headers),
            routing_key=routing_key,
            timeout=10,
        )

    async def _confirming_channel(self) -> AbstractChannel:
        """The channel for retry and dead copies, opened anew after the broker was away."""
        async with self._publish_lock:
            if self._publish_channel is None or self._publish_channel.is_closed:
                self._publish_channel = await open_channel(
                    self._connection, publisher_confirms=True
                )
            return self._publish_channel


def consumer_ctx(
    make_consumer: Callable[[web.Application], Consumer],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx`` running a consumer for the app's lifetime."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        consumer = make_consumer(app)
        await consumer.start()
        yield
        await consumer.stop()

    return ctx


async def replay_dead(
    connection: AbstractRobustConnection, queue: str, *, limit: int | None = None
) -> int:
    """Move parked messages from ``queue.dead`` back to ``queue``, with a fresh retry count."""
    moved = 0
    channel = await open_channel(connection, publisher_confirms=True)
    try:
        dead = await channel.declare_queue(
            dead_queue_name(queue), durable=True, arguments=quorum_arguments()
        )
        while limit is None or moved < limit:
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = {k: v for k, v in (message.headers or {}).items() if not k.startswith("x-")}
            await channel.default_exchange.publish(
                copy_message(message, headers),
                routing_key=queue,
            )
            await message.ack()
            moved += 1
    finally:
        await channel.close()
    return moved
