"""Outbox relay end to end (commit -> consumer) against raw aio-pika publishing with confirms.

Both sides deliver the same number of messages of the same size to a consumer on the same
broker; the raw side publishes in batches of the relay's size, awaiting confirms per batch.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime
from uuid import uuid4

import aio_pika

from bench.env import bench_database, bench_servers, bench_vhost
from shared import eventloop
from shared.contracts import CustomerErased
from shared.db import create_pool
from shared.messaging import EVENTS_EXCHANGE, OutboxRelay, declare_exchanges, encode_message
from shared.messaging.outbox import enqueue

COUNT = 20_000
BATCH = 200


def erased() -> CustomerErased:
    return CustomerErased(customer_id=uuid4(), request_id=uuid4(), erased_at=datetime.now(UTC))


async def _consume_until(connection, routing_key: str, count: int) -> asyncio.Future[float]:  # type: ignore[no-untyped-def]
    done: asyncio.Future[float] = asyncio.get_running_loop().create_future()
    seen: set[str] = set()
    channel = await connection.channel()
    await declare_exchanges(channel)
    await channel.set_qos(prefetch_count=1000)
    queue = await channel.declare_queue(f"bench.{uuid4()}", exclusive=True)
    await queue.bind(EVENTS_EXCHANGE, routing_key)

    async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
        seen.add(message.message_id or "")
        await message.ack()
        if len(seen) >= count and not done.done():
            done.set_result(time.perf_counter())

    await queue.consume(on_message)
    return done


async def raw_publish(amqp_url: str) -> float:
    connection = await aio_pika.connect_robust(amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await declare_exchanges(channel)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        done = await _consume_until(connection, "raw.bench", COUNT)
        body = erased().model_dump_json().encode()
        start = time.perf_counter()
        for offset in range(0, COUNT, BATCH):
            await asyncio.gather(
                *(
                    exchange.publish(
                        encode_message(
                            body,
                            message_id=uuid4(),
                            message_type=CustomerErased.MESSAGE_TYPE,
                            correlation_id=None,
                            traceparent=None,
                        ),
                        routing_key="raw.bench",
                    )
                    for _ in range(min(BATCH, COUNT - offset))
                )
            )
        end = await done
    return COUNT / (end - start)


async def relay_publish(amqp_url: str, dsn: str) -> float:
    pool = await create_pool(dsn)
    connection = await aio_pika.connect_robust(amqp_url)
    try:
        async with pool.acquire() as conn, conn.transaction():
            for _ in range(COUNT):
                await enqueue(conn, erased())
        done = await _consume_until(connection, CustomerErased.MESSAGE_TYPE, COUNT)
        relay = OutboxRelay(pool, connection, dsn=dsn, batch_size=BATCH)
        start = time.perf_counter()
        task = asyncio.create_task(relay.run())
        end = await done
        task.cancel()
        return COUNT / (end - start)
    finally:
        await connection.close()
        await pool.close()


ROUNDS = 3


async def run() -> dict[str, float]:
    """Interleaved rounds; the best of each side is reported (noise only ever slows)."""
    raws: list[float] = []
    relays: list[float] = []
    with bench_servers() as servers, bench_vhost(servers) as amqp_url:
        async with bench_database(servers, "bench") as dsn:
            for _ in range(ROUNDS):
                raws.append(await raw_publish(amqp_url))
                relays.append(await relay_publish(amqp_url, dsn))
    raw, relay = max(raws), max(relays)
    print(f"outbox: rounds raw   {' '.join(f'{r:.0f}' for r in raws)} msg/s")
    print(f"outbox: rounds relay {' '.join(f'{r:.0f}' for r in relays)} msg/s")
    print(f"outbox: raw aio-pika with confirms  {raw:10.0f} msg/s")
    print(f"outbox: relay commit -> consumer    {relay:10.0f} msg/s")
    print(f"outbox: relay / raw                 {relay / raw:10.2f}  (goal >= 0.80)")
    return {"raw_msgs_per_s": raw, "relay_msgs_per_s": relay, "ratio": relay / raw}


if __name__ == "__main__":
    eventloop.run(run())
