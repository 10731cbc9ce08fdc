"""The AsyncAPI 3.0 document of the broker: generated from the contracts, checked in under
docs/, and valid against the AsyncAPI 3.0 JSON schema of the ``@asyncapi/specs`` npm
package (fetched with ``npm pack`` into the run's temporary directory)."""

from __future__ import annotations

import copy
import json
import subprocess
import tarfile
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import referencing
from referencing.jsonschema import DRAFT7

from shared import asyncapi
from shared.contracts import CONTRACTS, OrderPlaced
from shared.messaging.topology import DISPATCH_EXCHANGE, EVENTS_EXCHANGE, PAYMENTS_EXCHANGE

ROOT = Path(__file__).resolve().parents[2]
SPECS = "@asyncapi/specs@6"


@pytest.fixture(scope="module")
def validator(tmp_path_factory: pytest.TempPathFactory) -> jsonschema.Draft7Validator:
    folder = tmp_path_factory.mktemp("asyncapi-specs")
    packed = subprocess.run(
        ["npm", "pack", SPECS, "--silent", "--pack-destination", str(folder)],
        check=True,
        capture_output=True,
        text=True,
        timeout=300,
    ).stdout.split()[-1]
    with tarfile.open(folder / packed) as archive:
        member = archive.extractfile("package/schemas/3.0.0.json")
        assert member is not None
        schema = json.load(member)
    registry = referencing.Registry().with_resource(schema["$id"], DRAFT7.create_resource(schema))
    return jsonschema.Draft7Validator(schema, registry=registry)


def test_the_checked_in_copy_is_what_the_contracts_generate() -> None:
    checked_in = (ROOT / "docs" / "asyncapi.json").read_text(encoding="utf-8")
    assert checked_in == asyncapi.text(), "run: python -m shared.asyncapi > docs/asyncapi.json"


def test_the_document_is_valid_asyncapi_3(validator: jsonschema.Draft7Validator) -> None:
    document = asyncapi.document()
    assert [error.message for error in validator.iter_errors(document)] == []
    wrong: dict[str, Any] = copy.deepcopy(document)
    next(iter(wrong["operations"].values()))["action"] = "publish"  # AsyncAPI 2's word
    assert not validator.is_valid(wrong)


def test_every_contract_is_on_its_exchange() -> None:
    document = asyncapi.document()
    assert set(document["components"]["messages"]) == {m.__name__ for m in CONTRACTS.values()}
    exchanges = {
        channel["bindings"]["amqp"]["exchange"]["name"]: channel["address"]
        for channel in document["channels"].values()
    }
    assert exchanges[DISPATCH_EXCHANGE] == "courier.{courier}"
    assert exchanges[PAYMENTS_EXCHANGE] == "bank.{bank}"
    events = [
        channel["address"]
        for channel in document["channels"].values()
        if channel["bindings"]["amqp"]["exchange"]["name"] == EVENTS_EXCHANGE
    ]
    assert OrderPlaced.MESSAGE_TYPE in events and len(events) == len(CONTRACTS) - 4
    dispatch = document["components"]["schemas"]["DispatchMessage"]
    assert dispatch["additionalProperties"] is False  # the one body with personal data
