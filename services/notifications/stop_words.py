"""Is an inbound SMS a request to stop marketing texts? Pure.

The whole text, trimmed of spaces and punctuation and case-folded, must be one of the stop
words (Russian, Kazakh, English, as carriers in Kazakhstan use them): "Стоп, а где мой
заказ?" is a question for support, not a withdrawal.
"""

from __future__ import annotations

import unicodedata
from typing import Final

STOP_WORDS: Final = frozenset(
    {
        "stop",
        "stopall",
        "unsubscribe",
        "стоп",
        "отписаться",
        "отписка",
        "тоқта",
        "тоқтат",
        "тоқтату",
    }
)


def is_stop(text: str) -> bool:
    normal = unicodedata.normalize("NFKC", text).casefold()
    trimmed = "".join(c for c in normal if not _ignorable(c)).strip()
    return trimmed in STOP_WORDS


def _ignorable(char: str) -> bool:
    category = unicodedata.category(char)
    return category.startswith(("P", "Z", "C", "S"))
