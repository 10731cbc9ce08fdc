"""An AMQP_URL naming several nodes: the connection starts on the first that answers and
moves to another when the node it is on goes away (here a node is a TCP relay to the test
broker, so closing the relay takes that "node" down with its connections)."""

from __future__ import annotations

import asyncio
import contextlib
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from yarl import URL

from deploy.gateway import free_port
from shared.messaging.nodes import NodesConnection, node_urls
from shared.messaging.supervisor import ConsumerSupervisor, connect, open_channel
from tests.shared.messaging_helpers import Collector


class Relay:
    """A TCP relay to the broker on a port of its own: a node that can be taken down."""

    def __init__(self, target: URL) -> None:
        self.target = target
        self.server: asyncio.Server | None = None
        self.pipes: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self.server = await asyncio.start_server(self._pipe, "127.0.0.1", 0)

    @property
    def port(self) -> int:
        assert self.server is not None
        return int(self.server.sockets[0].getsockname()[1])

    def url(self) -> str:
        return str(self.target.with_host("127.0.0.1").with_port(self.port))

    async def stop(self) -> None:
        assert self.server is not None
        self.server.close()
        for writer in list(self.pipes):
            writer.transport.abort()
        await self.server.wait_closed()

    async def _pipe(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection(self.target.host, self.target.port)
        self.pipes |= {writer, up_writer}

        async def copy(source: asyncio.StreamReader, sink: asyncio.StreamWriter) -> None:
            with contextlib.suppress(ConnectionError, OSError):
                while data := await source.read(65536):
                    sink.write(data)
                    await sink.drain()
            sink.transport.abort()

        await asyncio.gather(copy(reader, up_writer), copy(up_reader, writer))
        self.pipes -= {writer, up_writer}


@pytest.fixture
async def relays(amqp_url: str) -> AsyncIterator[list[Relay]]:
    made = [Relay(URL(amqp_url)) for _ in range(2)]
    for relay in made:
        await relay.start()
    yield made
    for relay in made:
        with contextlib.suppress(Exception):
            await relay.stop()


def test_node_urls_one_or_several():
    assert node_urls("amqp://a:5672/v") == ["amqp://a:5672/v"]
    assert node_urls(" amqp://a/v , amqp://b/v,") == ["amqp://a/v", "amqp://b/v"]
    with pytest.raises(ValueError, match="no AMQP URL"):
        node_urls(" , ")


async def test_the_first_node_that_answers(amqp_url: str):
    down = str(URL(amqp_url).with_host("127.0.0.1").with_port(free_port()))
    connection = await connect(f"{down},{amqp_url}")
    try:
        assert isinstance(connection, NodesConnection)
        assert connection.url.port == URL(amqp_url).port
        channel = await open_channel(connection)
        await channel.close()
    finally:
        await connection.close()


async def test_a_consumer_moves_to_another_node_when_its_node_goes_away(relays: list[Relay]):
    first, second = relays
    connection = await connect(f"{first.url()},{second.url()}")
    queue_name, collector = f"nodes.{uuid.uuid4().hex[:8]}", Collector()

    async def setup(channel: aio_pika.abc.AbstractChannel) -> None:
        queue = await channel.declare_queue(queue_name, durable=True, auto_delete=True)
        await queue.consume(collector.on_message)

    supervisor = ConsumerSupervisor(connection, queue_name, setup)
    try:
        await supervisor.start()
        assert connection.url.port == first.port
        await first.stop()  # the node it is on goes away, and stays away
        async with asyncio.timeout(20):
            while not (supervisor.consuming and connection.url.port == second.port):
                await asyncio.sleep(0.1)
        channel = await open_channel(connection, publisher_confirms=True)
        await channel.default_exchange.publish(
            aio_pika.Message(b"{}", message_id="after"), routing_key=queue_name
        )
        await channel.close()
        async with asyncio.timeout(10):
            while "after" not in collector.seen:
                await asyncio.sleep(0.05)
    finally:
        await supervisor.stop()
        await connection.close()
