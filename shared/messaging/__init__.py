"""Messaging on RabbitMQ: topology, envelopes, the transactional outbox and the inbox consumer."""

from shared.messaging.consumer import Consumer, IncomingMeta, PermanentFailure, replay_dead
from shared.messaging.envelope import decode_message, encode_message
from shared.messaging.outbox import BodyCipher, OutboxRelay, enqueue
from shared.messaging.topology import (
    DISPATCH_EXCHANGE,
    EVENTS_EXCHANGE,
    PAYMENTS_EXCHANGE,
    bank_queue_name,
    courier_queue_name,
    declare_bank_queue,
    declare_consumer_queues,
    declare_courier_queue,
    declare_exchanges,
)

__all__ = [
    "DISPATCH_EXCHANGE",
    "EVENTS_EXCHANGE",
    "PAYMENTS_EXCHANGE",
    "BodyCipher",
    "Consumer",
    "IncomingMeta",
    "OutboxRelay",
    "PermanentFailure",
    "bank_queue_name",
    "courier_queue_name",
    "declare_bank_queue",
    "declare_consumer_queues",
    "declare_courier_queue",
    "declare_exchanges",
    "decode_message",
    "encode_message",
    "enqueue",
    "replay_dead",
]
