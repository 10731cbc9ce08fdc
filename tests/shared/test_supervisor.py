"""The consumer supervisor: a consumer comes back when the broker drops its connection or
cancels it, even if nothing but the supervisor holds its channel and queue."""

from __future__ import annotations

import asyncio
import gc
import subprocess
import uuid
from collections.abc import AsyncIterator

import aio_pika
import pytest
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from shared.messaging.supervisor import ConsumerSupervisor, connect, open_channel
from tests import infra
from tests.shared.messaging_helpers import Collector


@pytest.fixture
async def vhost(servers: infra.Servers) -> AsyncIterator[tuple[str, str]]:
    """A vhost of this test alone (its connections are closed by force), and its URL."""
    if servers.rabbitmqctl is None:
        pytest.skip("closing connections needs rabbitmqctl")
    name = f"test-{infra.run_token()}"
    infra.create_vhost(servers.rabbitmqctl, name)
    yield name, infra.amqp_with_vhost(servers.amqp_url, name)
    infra.delete_vhost(servers.rabbitmqctl, name)


@pytest.fixture
async def consumed(vhost) -> AsyncIterator[tuple[AbstractRobustConnection, str, Collector]]:
    """A supervised consumer of a fresh queue; neither its channel nor its queue is kept."""
    connection = await connect(vhost[1])
    queue_name, collector = f"supervised.{uuid.uuid4().hex[:8]}", Collector()

    async def setup(channel: AbstractChannel) -> None:
        queue = await channel.declare_queue(queue_name, durable=True)
        await queue.consume(collector.on_message)

    supervisor = ConsumerSupervisor(connection, queue_name, setup)
    await supervisor.start()
    yield connection, queue_name, collector
    await supervisor.stop()
    await connection.close()


async def send(connection: AbstractRobustConnection, queue: str, message_id: str) -> None:
    channel = await open_channel(connection, publisher_confirms=True)
    try:
        message = aio_pika.Message(b"{}", message_id=message_id)
        await channel.default_exchange.publish(message, routing_key=queue)
    finally:
        await channel.close()


async def test_consuming_again_after_the_broker_closed_the_connection(servers, vhost, consumed):
    connection, queue, collector = consumed
    await send(connection, queue, "before")
    await collector.wait_for_distinct(1, timeout=5)
    ctl = servers.rabbitmqctl
    subprocess.run(
        [*ctl, "close_all_connections", "-p", vhost[0], "test closes it"],
        check=True,
        capture_output=True,
    )
    gc.collect()  # nothing of ours holds the consumer's channel: it must not matter
    await asyncio.sleep(1)
    gc.collect()
    await send(connection, queue, "after")
    await collector.wait_for_distinct(2, timeout=10)
    assert set(collector.seen) == {"before", "after"}


async def test_consuming_again_after_the_broker_cancelled_the_consumer(consumed):
    connection, queue, collector = consumed
    channel = await open_channel(connection)
    await channel.queue_delete(queue)  # the broker cancels the queue's consumers
    await channel.close()
    # The supervisor declares the queue again; until then a message has nowhere to go.
    async with asyncio.timeout(10):
        while not collector.seen:
            await send(connection, queue, f"after-{len(collector.bodies)}")
            await asyncio.sleep(0.2)
    assert collector.seen
