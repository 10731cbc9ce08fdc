"""The broker's shape, declared in code: exchanges, quorum queues, retry tiers, dead queues.

For a consumer queue ``Q``:
- ``Q`` is a quorum queue bound to the routing keys it handles, with an explicit delivery
  limit: a message that keeps crashing its consumer is dead-lettered to ``Q.dead``;
- ``Q.retry.N`` holds a failed message for the N-th back-off delay, then dead-letters it
  back to ``Q`` (through the default exchange);
- ``Q.dead`` keeps what failed every retry, for inspection and ``replay_dead``, for
  ``dead_queue_retention_days``: the parking stamps it (``PARKED_AT_HEADER``) and each
  service's retention run drops what was parked before the cutoff, counting it
  (``shared.messaging.dead``). Not a broker TTL: a queue argument cannot change on a queue
  that exists (a redeclaration with another TTL is refused), a policy needs the management
  API, and the broker drops expired messages without telling anyone how many.
"""

from __future__ import annotations

import aio_pika
from aio_pika.abc import (
    AbstractChannel,
    ExchangeType,
    FieldValue,
)

EVENTS_EXCHANGE = "shop.events"
DISPATCH_EXCHANGE = "shop.dispatch"
PAYMENTS_EXCHANGE = "shop.payments"
ATTEMPT_HEADER = "x-shop-attempt"
# When a message was parked in its dead queue (milliseconds since the epoch, UTC).
PARKED_AT_HEADER = "x-shop-parked-at"


def courier_routing_key(courier: str) -> str:
    """The routing key of a courier's messages on the dispatch exchange."""
    return f"courier.{courier}"


def courier_queue_name(courier: str) -> str:
    return f"courier.{courier}.dispatch"


def bank_queue_name(bank: str) -> str:
    return f"bank.{bank}.payments"


def retry_queue_name(queue: str, tier: int) -> str:
    return f"{queue}.retry.{tier}"


def dead_queue_name(queue: str) -> str:
    return f"{queue}.dead"


async def declare_exchanges(channel: AbstractChannel) -> None:
    for name in (EVENTS_EXCHANGE, DISPATCH_EXCHANGE, PAYMENTS_EXCHANGE):
        await channel.declare_exchange(name, ExchangeType.TOPIC, durable=True)


def quorum_arguments(extra: dict[str, FieldValue] | None = None) -> dict[str, FieldValue]:
    return {"x-queue-type": "quorum", **(extra or {})}


async def declare_consumer_queues(
    channel: AbstractChannel,
    queue: str,
    bindings: list[tuple[str, str]],
    *,
    retry_delays_ms: tuple[int, ...],
    delivery_limit: int,
) -> aio_pika.abc.AbstractQueue:
    """Declare ``queue`` with its retry tiers and dead queue; bind it; return it."""
    await declare_exchanges(channel)
    await channel.declare_queue(dead_queue_name(queue), durable=True, arguments=quorum_arguments())
    for tier, delay_ms in enumerate(retry_delays_ms):
        await channel.declare_queue(
            retry_queue_name(queue, tier),
            durable=True,
            arguments=quorum_arguments(
                {
                    "x-message-ttl": delay_ms,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": queue,
                }
            ),
        )
    main = await channel.declare_queue(
        queue,
        durable=True,
        arguments=quorum_arguments(
            {
                "x-delivery-limit": delivery_limit,
                "x-dead-letter-exchange": "",
                "x-dead-letter-routing-key": dead_queue_name(queue),
            }
        ),
    )
    for exchange, routing_key in bindings:
        await main.bind(exchange, routing_key)
    return main


async def declare_courier_queue(channel: AbstractChannel, courier: str) -> None:
    """Each courier has a durable queue of its dispatch messages, declared by the shop."""
    await declare_exchanges(channel)
    queue = await channel.declare_queue(
        courier_queue_name(courier), durable=True, arguments=quorum_arguments()
    )
    await queue.bind(DISPATCH_EXCHANGE, courier_routing_key(courier))


async def declare_bank_queue(channel: AbstractChannel, bank: str) -> None:
    """Each bank adapter has a durable queue of payment and refund requests (shop-declared)."""
    await declare_exchanges(channel)
    queue = await channel.declare_queue(
        bank_queue_name(bank), durable=True, arguments=quorum_arguments()
    )
    await queue.bind(PAYMENTS_EXCHANGE, f"bank.{bank}")
