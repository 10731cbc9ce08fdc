"""The transactional outbox and its relay.

``enqueue`` writes a message in the caller's transaction, so it exists exactly when the state
it announces does. ``OutboxRelay`` publishes committed rows with publisher confirms, in
batches, woken by LISTEN/NOTIFY (with a slow poll as a safety net). Rows are locked with
SKIP LOCKED, so several relays can run side by side. A relay that dies between publishing and
marking publishes the batch again: delivery is at-least-once, and the inbox of each consumer
makes it effectively once.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Callable
from typing import Protocol
from uuid import UUID, uuid4

import asyncpg
from aio_pika.abc import AbstractChannel, AbstractExchange, AbstractRobustConnection
from aiohttp import web

from shared.contracts import Contract
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging.envelope import encode_message
from shared.messaging.supervisor import RETRY_MAX_S, close_quietly, open_channel
from shared.messaging.topology import EVENTS_EXCHANGE, declare_exchanges
from shared.telemetry import current_traceparent, from_traceparent, untraced

NOTIFY_CHANNEL = "shop_outbox"
log = get_logger("shared.outbox")


class BodyCipher(Protocol):
    """Seals outbox bodies at rest, for a service whose messages may carry personal data."""

    def seal(self, plaintext: bytes) -> bytes: ...

    def open(self, sealed: bytes) -> bytes: ...


async def enqueue(
    conn: DbConn,
    message: Contract,
    *,
    exchange: str = EVENTS_EXCHANGE,
    routing_key: str | None = None,
    correlation_id: str | None = None,
    cipher: BodyCipher | None = None,
) -> UUID:
    """Add ``message`` to the outbox inside the caller's transaction; return its message id."""
    message_id = uuid4()
    body = message.model_dump_json().encode()
    # One round trip: the row, and a notification that listeners get at commit (identical
    # notifications in one transaction fold into one).
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (message_id, exchange, routing_key, message_type,"
        " correlation_id, traceparent, body, sealed) VALUES ($1, $2, $3, $4, $5, $6, $7, $8))"
        " SELECT pg_notify($9, '')",
        message_id,
        exchange,
        routing_key or message.MESSAGE_TYPE,
        message.MESSAGE_TYPE,
        correlation_id,
        current_traceparent(),
        cipher.seal(body) if cipher else body,
        cipher is not None,
        NOTIFY_CHANNEL,
    )
    return message_id


class OutboxRelay:
    def __init__(
        self,
        pool: asyncpg.Pool,
        connection: AbstractRobustConnection,
        *,
        dsn: str,
        cipher: BodyCipher | None = None,
        batch_size: int = 200,
        poll_interval_s: float = 1.0,
        retention_s: float = 7 * 24 * 3600,
        purge_interval_s: float = 60.0,
        pipeline: int = 2,
    ) -> None:
        self._pool = pool
        self._dsn = dsn
        self._connection = connection
        self._cipher = cipher
        self._batch_size = batch_size
        self._poll_interval_s = poll_interval_s
        self._retention_s = retention_s
        self._purge_interval_s = purge_interval_s
        self._pipeline = pipeline
        self._wake = asyncio.Event()
        self._channel_lock = asyncio.Lock()
        self._channel: AbstractChannel | None = None
        self._exchanges: dict[str, AbstractExchange] = {}

    async def run(self) -> None:
        """Relay until cancelled. Errors (broker or database away) back off and retry."""
        listener = await self._listen()
        last_purge = 0.0
        backoff = 0.1
        in_flight = 1
        try:
            while True:
                self._wake.clear()
                try:
                    # With a backlog, batches go side by side (SKIP LOCKED gives each its own
                    # rows), so the database round trips of one overlap the confirms of
                    # another; a trickle takes one batch per wake-up, with no empty ones.
                    batches = await asyncio.gather(
                        *(self.publish_batch() for _ in range(in_flight))
                    )
                    published = sum(batches)
                    in_flight = self._pipeline if published >= self._batch_size else 1
                    if time.monotonic() - last_purge > self._purge_interval_s:
                        await self.purge()
                        last_purge = time.monotonic()
                    backoff = 0.1
                except Exception as exc:  # the relay must outlive any outage; it retries
                    log.warning("outbox relay batch failed", error=type(exc).__name__)
                    await self._forget_channel()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, RETRY_MAX_S)
                    continue
                if published >= self._batch_size:
                    continue
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self._poll_interval_s)
        finally:
            with contextlib.suppress(Exception):
                await listener.close()
            await self._forget_channel()

    async def _listen(self) -> asyncpg.Connection:
        conn: asyncpg.Connection = await asyncpg.connect(self._dsn)
        await conn.add_listener(NOTIFY_CHANNEL, lambda *_: self._wake.set())
        return conn

    async def _exchange(self, name: str) -> AbstractExchange:
        async with self._channel_lock:
            return await self._open_exchange(name)

    async def _open_exchange(self, name: str) -> AbstractExchange:
        if self._channel is None or self._channel.is_closed:
            # A plain channel: it fails at once with the broker, and a new one is opened
            # once the connection is back (a self-restoring one would hold publishes).
            self._channel = await open_channel(self._connection, publisher_confirms=True)
            await declare_exchanges(self._channel)
            self._exchanges = {}
        if name not in self._exchanges:
            if name == "":
                self._exchanges[name] = self._channel.default_exchange
            else:
                self._exchanges[name] = await self._channel.get_exchange(name, ensure=False)
        return self._exchanges[name]

    async def _forget_channel(self) -> None:
        channel, self._channel = self._channel, None
        self._exchanges = {}
        await close_quietly(channel)

    async def publish_batch(self) -> int:
        """Publish one batch of unpublished rows and mark them; return how many."""
        # The relay's own queries are not traced (it polls); each publish continues the trace
        # its row was written in (``from_traceparent`` leaves this suppression).
        with untraced():
            return await self._publish_batch()

    async def _publish_batch(self) -> int:
        async with self._pool.acquire() as conn, conn.transaction():
            rows = await conn.fetch(
                "SELECT id, message_id, exchange, routing_key, message_type, correlation_id,"
                " traceparent, body, sealed FROM outbox WHERE published_at IS NULL"
                " ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED",
                self._batch_size,
            )
            if not rows:
                return 0
            exchanges = {name: await self._exchange(name) for name in {r["exchange"] for r in rows}}
            # One deadline for the batch: a per-message timeout costs a task per message.
            async with asyncio.timeout(30):
                await asyncio.gather(
                    *(self._publish(row, exchanges[row["exchange"]]) for row in rows)
                )
            await self._mark_published(conn, [row["id"] for row in rows])
            return len(rows)

    async def _publish(self, row: asyncpg.Record, exchange: AbstractExchange) -> None:
        body: bytes = row["body"]
        if row["sealed"]:
            if self._cipher is None:
                raise RuntimeError("sealed outbox row but no cipher configured")
            body = self._cipher.open(body)
        with from_traceparent(row["traceparent"]):
            await exchange.publish(
                encode_message(
                    body,
                    message_id=row["message_id"],
                    message_type=row["message_type"],
                    correlation_id=row["correlation_id"],
                    traceparent=row["traceparent"],
                ),
                routing_key=row["routing_key"],
            )

    async def _mark_published(self, conn: DbConn, ids: list[int]) -> None:
        # A sealed body is wiped at once: the recipient has it, we need not keep it.
        await conn.execute(
            "UPDATE outbox SET published_at = now(),"
            " body = CASE WHEN sealed THEN ''::bytea ELSE body END WHERE id = ANY($1::bigint[])",
            ids,
        )

    async def purge(self) -> int:
        result: str = await self._pool.execute(
            "DELETE FROM outbox WHERE published_at < now() - make_interval(secs => $1)",
            float(self._retention_s),
        )
        return int(result.split()[-1])


async def forget_mentions(conn: DbConn, text: str) -> tuple[int, int]:
    """Erasure: wipe the published (plain) bodies that mention ``text`` (a customer id), so
    the retained outbox no longer links it. Returns (wiped, unpublished): an unpublished row
    that mentions it is still to be sent as is, and the caller decides whether to wait."""
    needle = text.encode()
    wiped: str = await conn.execute(
        "UPDATE outbox SET body = ''::bytea WHERE published_at IS NOT NULL AND NOT sealed"
        " AND position($1::bytea IN body) > 0",
        needle,
    )
    pending: int = await conn.fetchval(
        "SELECT count(*) FROM outbox WHERE published_at IS NULL AND NOT sealed"
        " AND position($1::bytea IN body) > 0",
        needle,
    )
    return int(wiped.split()[-1]), pending


def outbox_relay_ctx(
    make_relay: Callable[[web.Application], OutboxRelay],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx`` running the relay for the app's lifetime."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(make_relay(app).run(), name="outbox-relay")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx
