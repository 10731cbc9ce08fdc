"""shared.jsontext: orjson's answers hold what stdlib json wrote, and what orjson refuses
still goes out."""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import uuid
from decimal import Decimal

from shared import jsontext


class Colour(enum.StrEnum):
    RED = "red"


@dataclasses.dataclass
class Point:
    x: int


def stdlib(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, default=str)


def test_the_same_values_as_the_stdlib_wrote() -> None:
    value = {
        "city": "Алматы",
        1: "an int key",
        "at": datetime.datetime(2026, 12, 3, 17, 0, tzinfo=datetime.UTC),
        "day": datetime.date(2026, 12, 3),
        "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
        "amount": Decimal("1.50"),
        "colour": Colour.RED,
        "point": Point(1),
        "list": (1, 2.5, None, True),
    }
    text = jsontext.dumps(value)
    assert json.loads(text) == json.loads(stdlib(value))
    assert "Алматы" in text  # UTF-8, not \u escapes
    assert '"2026-12-03 17:00:00+00:00"' in text  # str() of a datetime, as before


def test_what_orjson_refuses_falls_back_to_the_stdlib() -> None:
    value = {"big": 2**70}
    assert jsontext.dumps(value) == stdlib(value)
