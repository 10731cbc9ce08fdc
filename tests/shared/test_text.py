"""shared.text.plain_text, without I/O: what a personal-data text field may hold."""

from __future__ import annotations

import pytest

from shared.text import plain_text

REFUSED = {
    "NUL": "Ерлан\x00",
    "tab": "Ерлан\tАхметов",
    "line break": "ул. Абая\n2-й подъезд",
    "DEL": "Ерлан\x7f",
    "C1 control": "Ерлан\x85",
    "line separator": "Ерлан\u2028",
    "left-to-right embedding": "\u202aЕрлан",
    "right-to-left override": "Ерлан\u202eнальрЕ",
    "first strong isolate": "\u2068Ерлан\u2069",
    "zero-width only": "\u200b\u200c\u200d",
    "word joiner and BOM only": "\u2060\ufeff",
    "no-break spaces only": "\u00a0\u3000",
    "combining mark only": "\u0301",
    "Hangul filler": "\u3164\u3164",
    "blank Braille cell": "\u2800",
}
ACCEPTED = [
    "Ерлан",
    "Сейтқали",
    "О'Нил-Смит",
    "ул. Жібек жолы, 5/1",
    "Ер\u200bлан",  # a zero-width character between visible ones
    "Zoë",
    "domofon 42 😀",
    "",
]


@pytest.mark.parametrize("value", REFUSED.values(), ids=REFUSED.keys())
def test_refused(value: str) -> None:
    with pytest.raises(ValueError) as refused:
        plain_text(value)
    assert value not in str(refused.value)


@pytest.mark.parametrize("value", ACCEPTED)
def test_accepted(value: str) -> None:
    assert plain_text(value) == value
