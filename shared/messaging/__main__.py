"""Operate the dead queues: ``python -m shared.messaging peek|replay QUEUE`` (AMQP_URL env).

``peek`` lists what is parked (id, type, attempts, reason) without taking it off the queue;
``replay`` moves it back to the work queue with a fresh retry count.
"""

from __future__ import annotations

import argparse
import asyncio
import os

from shared.messaging.consumer import replay_dead
from shared.messaging.supervisor import connect
from shared.messaging.topology import ATTEMPT_HEADER, dead_queue_name


async def peek(url: str, queue: str, limit: int) -> list[str]:
    connection = await connect(url)
    lines: list[str] = []
    async with connection, connection.channel() as channel:
        dead = await channel.declare_queue(dead_queue_name(queue), passive=True)
        for _ in range(limit):
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                break
            headers = message.headers or {}
            attempts, reason = headers.get(ATTEMPT_HEADER, 0), headers.get("x-shop-error", "?")
            lines.append(
                f"{message.message_id}  {message.type}  attempts={attempts!s}  reason={reason!s}"
            )
        # Closing the channel without acks puts every peeked message back.
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("command", choices=["peek", "replay"])
    parser.add_argument("queue", help="the work queue, e.g. notifications.events")
    parser.add_argument("--limit", type=int, default=100)
    args = parser.parse_args()
    url = os.environ.get("AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    if args.command == "peek":
        for line in asyncio.run(peek(url, args.queue, args.limit)):
            print(line)
        return

    async def replay() -> int:
        connection = await connect(url)
        async with connection:
            return await replay_dead(connection, args.queue, limit=args.limit)

    print(f"replayed {asyncio.run(replay())} message(s) to {args.queue}")


if __name__ == "__main__":
    main()
