"""JSON answers and problems through orjson, with the values stdlib ``json`` wrote before:
UTF-8 rather than ``\\u`` escapes, dates and times and anything else orjson does not know as
``str()`` of them (only the whitespace differs: none). A value orjson refuses (an integer past
64 bits) falls back to the stdlib. JSON *in* from clients stays with ``shared.strict_json``."""

from __future__ import annotations

import json
from typing import Any

import orjson

_ANSWER_OPTIONS = (
    orjson.OPT_NON_STR_KEYS | orjson.OPT_PASSTHROUGH_DATETIME | orjson.OPT_PASSTHROUGH_DATACLASS
)


def dumps(value: Any) -> str:
    """``json.dumps(value, ensure_ascii=False, default=str)``, faster."""
    return dump_bytes(value).decode()


def dump_bytes(value: Any) -> bytes:
    """``dumps`` as the UTF-8 bytes that go on the wire (no decoding and encoding again)."""
    try:
        return orjson.dumps(value, default=str, option=_ANSWER_OPTIONS)
    except orjson.JSONEncodeError:
        return json.dumps(value, ensure_ascii=False, default=str).encode()
