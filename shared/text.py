"""Text a person typed that the shop keeps and passes on (names, address parts, a comment).

Such text goes out to couriers, into mail and onto pages, so it may hold no control
characters (NUL, line breaks, escapes), no bidirectional embeddings, overrides or isolates
(they reorder what a reader sees) and not only invisible characters. ``plain_text`` is the
one check for every such field (``plain_paragraphs`` for a longer text that may have line
feeds, as a product description); its messages never quote the value.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator

# Cc (C0, DEL, C1), the line and paragraph separators, and the bidi embeddings, overrides
# (U+202A-U+202E) and isolates (U+2066-U+2069).
_FORBIDDEN = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]")
# Format characters (zero-width space and joiners, BOM), spaces and lone combining marks;
# and the letters and symbol that are drawn blank (Hangul fillers, the blank Braille cell).
_INVISIBLE_CATEGORIES = frozenset({"Cf", "Zs", "Mn", "Me"})
_BLANK_LETTERS = frozenset("\u115f\u1160\u3164\uffa0\u2800")


def plain_text(value: str) -> str:
    if _FORBIDDEN.search(value):
        raise ValueError("must not contain control or bidirectional formatting characters")
    if value and all(
        char in _BLANK_LETTERS or unicodedata.category(char) in _INVISIBLE_CATEGORIES
        for char in value
    ):
        raise ValueError("must contain visible characters")
    return value


def plain_paragraphs(value: str) -> str:
    """``plain_text`` that may hold line feeds between its lines."""
    plain_text(value.replace("\n", " "))
    return value


PlainText = Annotated[str, AfterValidator(plain_text)]
