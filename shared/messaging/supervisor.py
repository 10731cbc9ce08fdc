"""Consumers that come back after the broker does: one supervisor for every queue we consume.

aio-pika's robust connection reconnects the TCP connection well, but leaving the channels,
queues and consumers to its restore proved unreliable: it keeps channels in a ``WeakSet``
(a channel nobody holds, as in a stand-in, can vanish and its consumer is never restored:
aio-pika issue 594), and it restores every channel of a connection in one pass without
timeouts, so one stuck re-declaration holds back every consumer of the process. So the
connection stays robust, but channels are plain ones (``open_channel``) that simply die
with the connection, and a ``ConsumerSupervisor`` re-establishes its own channel, topology
and ``basic.consume`` with a short back-off whenever the channel closes or the broker
cancels the consumer, each step bounded by a timeout and each loss and recovery logged.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from shared.logging import get_logger
from shared.messaging.nodes import NodesConnection, node_urls

log = get_logger("shared.supervisor")

Setup = Callable[[AbstractChannel], Awaitable[None]]

STEP_TIMEOUT_S = 5.0  # one attempt's bound: connected, channel open, topology, consume
RETRY_FIRST_S = 0.1
RETRY_MAX_S = 1.0
RECONNECT_INTERVAL_S = 0.5


async def connect(url: str) -> AbstractRobustConnection:
    """A robust connection (it reconnects by itself every ``RECONNECT_INTERVAL_S``) to the
    first node of ``url`` (one URL, or several comma-separated: ``shared.messaging.nodes``)
    that answers, moving on to the others when the one it is on goes away."""
    urls = node_urls(url)
    for first in range(len(urls)):
        connection = NodesConnection(
            urls[first:] + urls[:first], reconnect_interval=RECONNECT_INTERVAL_S
        )
        try:
            await connection.connect()
            return connection
        except Exception:
            with contextlib.suppress(Exception):
                await connection.close()
            if first == len(urls) - 1:
                raise
            log.warning("broker node did not answer, trying the next", node=first)
    raise AssertionError("unreachable")


async def open_channel(
    connection: AbstractRobustConnection, *, publisher_confirms: bool = False
) -> AbstractChannel:
    """A plain (not self-restoring) channel on ``connection``, once it is connected.

    It closes for good with the connection; whoever opened it opens a new one.
    """
    await asyncio.wait_for(connection.connected.wait(), STEP_TIMEOUT_S)
    channel = aio_pika.Channel(connection, publisher_confirms=publisher_confirms)
    await asyncio.wait_for(channel.initialize(), STEP_TIMEOUT_S)
    return channel


async def close_quietly(channel: AbstractChannel | None) -> None:
    if channel is not None and not channel.is_closed:
        with contextlib.suppress(Exception):
            await asyncio.wait_for(channel.close(), 2)


class ConsumerSupervisor:
    """Runs ``setup`` (qos, declarations, ``consume``) on a fresh channel, again and again.

    ``start`` returns once the first setup succeeded; from then on a background task waits
    for the channel to close (broker gone, channel error) or for the broker to cancel the
    consumer, and sets everything up again on a new channel as soon as it can.
    """

    def __init__(self, connection: AbstractRobustConnection, name: str, setup: Setup) -> None:
        self.name = name
        self._connection = connection
        self._setup = setup
        self._channel: AbstractChannel | None = None
        self._task: asyncio.Task[None] | None = None
        self._consuming = asyncio.Event()

    @property
    def consuming(self) -> bool:
        return self._consuming.is_set()

    async def start(self, timeout: float = 30.0) -> None:  # noqa: ASYNC109
        self._task = asyncio.create_task(self._run(), name=f"consumer:{self.name}")
        waiting = asyncio.ensure_future(self._consuming.wait())
        await asyncio.wait(
            {waiting, self._task}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
        )
        waiting.cancel()
        if not self._consuming.is_set():
            await self.stop()
            raise TimeoutError(f"no consumer on {self.name} after {timeout} s")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        await close_quietly(self._channel)

    async def _run(self) -> None:
        retry_in = RETRY_FIRST_S
        while True:
            try:
                await self._consume_until_lost()
                log.warning("consumer lost, re-establishing", queue=self.name)
                retry_in = RETRY_FIRST_S
            except Exception as exc:  # anything: the broker may be half-way back
                log.warning(
                    "consumer setup failed", queue=self.name, error=type(exc).__name__,
                    retry_in_s=retry_in,
                )  # fmt: skip
                retry_in = min(retry_in * 2, RETRY_MAX_S)
            finally:
                self._consuming.clear()
                await close_quietly(self._channel)
            await asyncio.sleep(retry_in)

    async def _consume_until_lost(self) -> None:
        lost = asyncio.Event()
        channel = self._channel = await open_channel(self._connection)
        channel.close_callbacks.add(lambda *_: lost.set())
        underlay = await channel.get_underlay_channel()
        underlay.on_consumer_cancel_callbacks.add(lambda *_: lost.set())
        await asyncio.wait_for(self._setup(channel), STEP_TIMEOUT_S)
        self._consuming.set()
        log.info("consuming", queue=self.name)
        await lost.wait()
