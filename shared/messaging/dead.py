"""The dead queues' retention: a parked message is kept for an operator to look at and replay
for a period, then dropped, and the drop is counted.

The consumer stamps a message with ``PARKED_AT_HEADER`` when it parks it; a message the
broker dead-lettered itself (its delivery limit) has the time in its ``x-death`` header. One
sweep reads the whole queue once (as many messages as it held when the sweep began): it acks
what was parked before the cutoff (gone), and puts every other message back by publishing
a copy with publisher confirms before acking the original, so nothing younger is ever lost,
whatever the broker does with returned messages (a quorum queue counts returns against a
delivery limit in newer versions). A message with no date at all (parked before the stamp
existed) is put back stamped now, so it too goes after the full period.
"""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime

from aio_pika.abc import AbstractIncomingMessage, AbstractRobustConnection, FieldValue

from shared.messaging.envelope import copy_message
from shared.messaging.supervisor import STEP_TIMEOUT_S, close_quietly, open_channel
from shared.messaging.topology import PARKED_AT_HEADER, dead_queue_name, quorum_arguments

SWEEP_LIMIT = 10_000  # a dead queue is an alarm, not a store; more waits for the next run


def parked_now() -> int:
    return int(time.time() * 1000)


def parked_at(message: AbstractIncomingMessage) -> datetime | None:
    """When the message was parked: our stamp, else the broker's dead-lettering time."""
    headers = message.headers or {}
    stamp = headers.get(PARKED_AT_HEADER)
    if isinstance(stamp, int) and not isinstance(stamp, bool):
        return datetime.fromtimestamp(stamp / 1000, UTC)
    deaths = headers.get("x-death")
    if isinstance(deaths, list) and deaths and isinstance(deaths[0], dict):
        at = deaths[0].get("time")
        if isinstance(at, datetime):
            return at if at.tzinfo else at.replace(tzinfo=UTC)
    return None


async def drop_dead_before(
    connection: AbstractRobustConnection, queue: str, cutoff: datetime
) -> int:
    """Drop the messages parked in ``queue``'s dead queue before ``cutoff``; return how many."""
    channel = await open_channel(connection, publisher_confirms=True)
    dropped = 0
    try:
        # Every broker step is bounded, and the channel closes quietly: a broker that stops
        # answering fails this run (TimeoutError, logged) and never holds the app's shutdown.
        async with asyncio.timeout(STEP_TIMEOUT_S):
            dead = await channel.declare_queue(
                dead_queue_name(queue), durable=True, arguments=quorum_arguments()
            )
        held = dead.declaration_result.message_count or 0
        for _ in range(min(held, SWEEP_LIMIT)):
            async with asyncio.timeout(STEP_TIMEOUT_S):
                message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            at = parked_at(message)
            if at is not None and at < cutoff:
                await message.ack()
                dropped += 1
                continue
            headers: dict[str, FieldValue] = dict(message.headers or {})
            if PARKED_AT_HEADER not in headers:  # dated from now on by our own stamp
                headers[PARKED_AT_HEADER] = (
                    int(at.timestamp() * 1000) if at is not None else parked_now()
                )
            await channel.default_exchange.publish(
                copy_message(message, headers), routing_key=dead.name, timeout=10
            )
            await message.ack()
    finally:
        await close_quietly(channel)
    return dropped
