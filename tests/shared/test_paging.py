"""The one cursor codec: round trips, and anything else is the same 422 problem."""

from __future__ import annotations

import pytest

from shared.paging import BadCursor, decode_cursor, encode_cursor


def test_cursors_round_trip() -> None:
    assert decode_cursor(encode_cursor("Но-шпа 40 мг", "x"), 2) == ("Но-шпа 40 мг", "x")


@pytest.mark.parametrize("text", ["", "!!!", "e30", "W10", "WzFd", "WyJhIl0"])
def test_anything_else_is_a_422_problem(text: str) -> None:
    with pytest.raises(BadCursor) as raised:
        decode_cursor(text, 2)
    assert (raised.value.status, raised.value.title) == (422, "Invalid cursor")
