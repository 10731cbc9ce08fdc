"""The AsyncAPI 3.0 description of the broker, generated from ``shared.contracts`` (the
message models) and ``shared.messaging.topology`` (exchanges and routing keys):
``python -m shared.asyncapi`` prints it; ``docs/asyncapi.json`` is the checked-in copy that
``tests/shared/test_asyncapi.py`` keeps equal to it and validates against the AsyncAPI 3.0
JSON schema.

Events go on ``shop.events`` with their type as routing key; a courier's messages on
``shop.dispatch`` as ``courier.<code>``; a bank's on ``shop.payments`` as ``bank.<code>``.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable
from typing import Any

from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.contracts import CONTRACTS, Contract
from shared.messaging.topology import DISPATCH_EXCHANGE, EVENTS_EXCHANGE, PAYMENTS_EXCHANGE

AMQP_BINDING = "0.3.0"
_REF = "#/components/schemas/{model}"
_NOT_AN_ID = re.compile(r"[^A-Za-z0-9_-]")
# A message type's prefix names the exchange of a party outside the shop; the channel's
# address is its routing key with the party's code as a parameter.
PARTIES: dict[str, tuple[str, str, str, str]] = {
    "courier.": ("dispatch", DISPATCH_EXCHANGE, "courier.{courier}", "courier"),
    "payments.": ("payments", PAYMENTS_EXCHANGE, "bank.{bank}", "bank"),
}


def _exchange(name: str) -> dict[str, Any]:
    return {
        "amqp": {
            "is": "routingKey",
            "exchange": {"name": name, "type": "topic", "durable": True, "autoDelete": False},
            "bindingVersion": AMQP_BINDING,
        }
    }


def _channel_of(model: type[Contract]) -> tuple[str, dict[str, Any]]:
    for prefix, (channel_id, exchange, address, party) in PARTIES.items():
        if model.MESSAGE_TYPE.startswith(prefix):
            return channel_id, {
                "address": address,
                "description": f"On exchange {exchange}: what the {party} with that code reads.",
                "parameters": {party: {"description": f"the {party}'s code"}},
                "bindings": _exchange(exchange),
            }
    channel_id = "events-" + _NOT_AN_ID.sub("-", model.MESSAGE_TYPE)
    return channel_id, {
        "address": model.MESSAGE_TYPE,
        "description": f"On exchange {EVENTS_EXCHANGE}, routing key {model.MESSAGE_TYPE}.",
        "bindings": _exchange(EVENTS_EXCHANGE),
    }


def _schemas(models: Iterable[type[Contract]]) -> dict[str, Any]:
    pairs: list[tuple[type[Contract], JsonSchemaMode]] = [
        (model, "serialization") for model in models
    ]
    _, top = models_json_schema(pairs, ref_template=_REF)
    return dict(top.get("$defs", {}))


def document() -> dict[str, Any]:
    models = sorted(CONTRACTS.values(), key=lambda model: model.MESSAGE_TYPE)
    channels: dict[str, dict[str, Any]] = {}
    operations: dict[str, dict[str, Any]] = {}
    messages: dict[str, dict[str, Any]] = {}
    for model in models:
        name = model.__name__
        messages[name] = {
            "name": model.MESSAGE_TYPE,
            "title": name,
            "summary": (model.__doc__ or name).strip().splitlines()[0],
            "contentType": "application/json",
            "payload": {"$ref": _REF.format(model=name)},
            "bindings": {"amqp": {"messageType": model.MESSAGE_TYPE, "bindingVersion": "0.3.0"}},
        }
        channel_id, channel = _channel_of(model)
        channels.setdefault(channel_id, {**channel, "messages": {}})["messages"][name] = {
            "$ref": f"#/components/messages/{name}"
        }
        operations[f"send{name}"] = {
            "action": "send",
            "channel": {"$ref": f"#/channels/{channel_id}"},
            "messages": [{"$ref": f"#/channels/{channel_id}/messages/{name}"}],
        }
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Shop messages",
            "version": "1",
            "description": (
                "What the services publish through their outbox (publisher confirms) on "
                "RabbitMQ's topic exchanges. Events carry ids only; the dispatch message is "
                "the one body with personal data, for the courier alone."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "broker": {"host": "localhost:5672", "protocol": "amqp", "protocolVersion": "0.9.1"}
        },
        "channels": channels,
        "operations": operations,
        "components": {"messages": messages, "schemas": _schemas(models)},
    }


def text() -> str:
    return json.dumps(document(), indent=2, ensure_ascii=False, sort_keys=True) + "\n"


if __name__ == "__main__":
    sys.stdout.write(text())
