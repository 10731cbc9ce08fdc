"""Strict JSON for request bodies: UTF-8, bounded nesting and the I-JSON profile (RFC 7493).

``json.loads`` alone accepts what a hostile client can use against us: it guesses UTF-16 from
bytes, recurses until ``RecursionError``, keeps the last of duplicate keys, reads ``NaN``,
parses numbers of any length (or raises ``ValueError`` past Python's 4300 digits) and lets a
lone surrogate (``"\\ud800"``) through, which raises later when the text is encoded. Here each
of these is a ``RefusedJson`` with a status and a message that quotes nothing sent.

orjson was measured and not taken: it refuses invalid UTF-8, lone surrogates and NaN itself,
but keeps the last of duplicate keys without a hook, turns big integers into floats and nests
1024 deep, so the checks below would still be needed.
"""

from __future__ import annotations

import codecs
import json
import math
import re
from typing import Any

MAX_DEPTH = 32
# I-JSON's interoperable integers (what a double holds exactly); more digits are refused
# before int() runs, so Python's int-string limit is never reached.
MAX_INT = 2**53 - 1
_MAX_INT_DIGITS = len(str(MAX_INT))

_STRING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_BRACKET = re.compile(r"[\[\]{}]")
_SURROGATE = re.compile("[\ud800-\udfff]")


class RefusedJson(Exception):
    """A body refused; ``status``, ``title`` and ``detail`` make its problem."""

    status = 400
    title = "Malformed JSON"
    detail = "The request body is not valid JSON."


class NotUtf8(RefusedJson):
    title = "Body not UTF-8"
    detail = "The request body must be JSON in UTF-8, without a byte order mark."


class TooDeep(RefusedJson):
    status = 422
    title = "Nesting too deep"
    detail = f"JSON arrays and objects may nest at most {MAX_DEPTH} levels."


class DuplicateKey(RefusedJson):
    status = 422
    title = "Duplicate key"
    detail = "A JSON object names the same key twice."


class NumberOutOfRange(RefusedJson):
    status = 422
    title = "Number out of range"
    detail = f"Numbers must be finite and integers at most {MAX_INT} in size."


class LoneSurrogate(RefusedJson):
    status = 422
    title = "Invalid string"
    detail = "A JSON string holds an unpaired surrogate escape."


def loads(raw: bytes) -> Any:
    """The JSON value of ``raw``, or ``RefusedJson``."""
    if raw.startswith(codecs.BOM_UTF8):
        raise NotUtf8
    try:
        text = raw.decode("utf-8")  # strict: no guessing, no surrogates
    except UnicodeDecodeError:
        raise NotUtf8 from None
    if _deeper_than(text, MAX_DEPTH):
        raise TooDeep
    try:
        value = json.loads(
            text,
            object_pairs_hook=_object,
            parse_int=_int,
            parse_float=_float,
            parse_constant=_constant,
        )
    except json.JSONDecodeError:
        raise RefusedJson from None
    if _has_lone_surrogate(value):
        raise LoneSurrogate
    return value


def _deeper_than(text: str, limit: int) -> bool:
    """Whether the brackets outside strings nest deeper than ``limit`` (checked before the
    recursive parser sees the text; stops at the first level too many)."""
    depth = 0
    for bracket in _BRACKET.finditer(_STRING.sub('""', text)):
        if bracket[0] in "[{":
            depth += 1
            if depth > limit:
                return True
        else:
            depth -= 1
    return False


def _object(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value = dict(pairs)
    if len(value) != len(pairs):
        raise DuplicateKey
    return value


def _int(digits: str) -> int:
    if len(digits.lstrip("-")) > _MAX_INT_DIGITS or abs(number := int(digits)) > MAX_INT:
        raise NumberOutOfRange
    return number


def _float(digits: str) -> float:
    number = float(digits)
    if not math.isfinite(number):
        raise NumberOutOfRange
    return number


def _constant(_name: str) -> Any:
    raise RefusedJson  # NaN, Infinity, -Infinity are not JSON


def _has_lone_surrogate(value: Any) -> bool:
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, str):
            if _SURROGATE.search(item):
                return True
        elif isinstance(item, dict):
            pending.extend(item)
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False
