"""Keyset-paging cursors: opaque to clients, the same codec and the same answer everywhere.

A cursor is the sort key of the last row of a page, as a JSON array of strings in URL-safe
base64. A cursor that is not one a service gave out is a 422 problem (``BadCursor``).
"""

from __future__ import annotations

import base64
import binascii
import json

from shared.http import Problem


class BadCursor(Problem):
    """Raised for a cursor this service did not give out; answered as a 422 problem."""

    def __init__(self) -> None:
        super().__init__(422, "Invalid cursor", "Use the next_cursor of a previous page.")


def encode_cursor(*values: str) -> str:
    raw = json.dumps(list(values), ensure_ascii=False).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(text: str, arity: int) -> tuple[str, ...]:
    """The ``arity`` strings back; ``BadCursor`` when the text is not such a cursor."""
    try:
        values = json.loads(base64.urlsafe_b64decode(text + "=" * (-len(text) % 4)))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadCursor() from None
    if not isinstance(values, list) or len(values) != arity:
        raise BadCursor()
    if not all(isinstance(value, str) for value in values):
        raise BadCursor()
    return tuple(values)
