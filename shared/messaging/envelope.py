"""The envelope: a contract model in an AMQP message with id, type, correlation and trace."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

import aio_pika
from aio_pika.abc import AbstractIncomingMessage
from pydantic import ValidationError

from shared.contracts import CONTRACTS, Contract
from shared.messaging.topology import ATTEMPT_HEADER


class PoisonMessage(Exception):
    """A message that no retry can fix: unknown type, missing id, or a body that fails its
    contract. The reason never quotes the body (it may carry personal data)."""


@dataclass(frozen=True)
class Decoded:
    message_id: UUID
    message_type: str
    body: Contract
    correlation_id: str | None
    traceparent: str | None
    attempt: int


def encode_message(
    body: bytes,
    *,
    message_id: UUID,
    message_type: str,
    correlation_id: str | None,
    traceparent: str | None,
    attempt: int = 0,
) -> aio_pika.Message:
    headers: dict[str, aio_pika.abc.FieldValue] = {ATTEMPT_HEADER: attempt}
    if traceparent:
        headers["traceparent"] = traceparent
    return aio_pika.Message(
        body=body,
        message_id=str(message_id),
        type=message_type,
        correlation_id=correlation_id,
        content_type="application/json",
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
        headers=headers,
    )


def copy_message(
    message: AbstractIncomingMessage, headers: dict[str, aio_pika.abc.FieldValue]
) -> aio_pika.Message:
    """A persistent copy of a received message with new headers (retry, park, replay)."""
    return aio_pika.Message(
        body=message.body,
        headers=headers,
        content_type=message.content_type,
        message_id=message.message_id,
        correlation_id=message.correlation_id,
        type=message.type,
        delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
    )


def decode_message(message: AbstractIncomingMessage) -> Decoded:
    model = CONTRACTS.get(message.type or "")
    if model is None:
        raise PoisonMessage(f"unknown message type {message.type!r}")
    try:
        message_id = UUID(message.message_id or "")
    except ValueError:
        raise PoisonMessage("missing or malformed message id") from None
    try:
        body = model.model_validate_json(message.body)
    except ValidationError as exc:
        fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
        raise PoisonMessage(f"body does not match {model.__name__}: {fields}") from None
    headers = message.headers or {}
    attempt = headers.get(ATTEMPT_HEADER, 0)
    trace = headers.get("traceparent")
    return Decoded(
        message_id=message_id,
        message_type=model.MESSAGE_TYPE,
        body=body,
        correlation_id=message.correlation_id,
        traceparent=trace if isinstance(trace, str) else None,
        attempt=attempt if isinstance(attempt, int) else 0,
    )
