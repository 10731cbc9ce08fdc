"""Which language a reader gets: ``lang=`` first, then ``Accept-Language``, else Russian.

Russian is every product's required language; Kazakh text is optional and, where a product
has none, its Russian text is shown (the answer's ``lang`` says which was asked for, each
item's ``lang`` which it is in).
"""

from __future__ import annotations

from typing import Literal

Lang = Literal["ru", "kk"]
LANGS: tuple[Lang, ...] = ("ru", "kk")
DEFAULT_LANG: Lang = "ru"
_MAX_RANGES = 20


def choose_lang(lang_param: str | None, accept_language: str | None) -> Lang:
    """The language asked for; a ``lang`` outside ru/kk is the caller's 422 (see
    ``LangParam``), an Accept-Language naming neither falls back to Russian."""
    if lang_param in LANGS:
        return lang_param
    return _from_accept_language(accept_language or "")


def _from_accept_language(header: str) -> Lang:
    """RFC 9110 12.5.4: the range with the highest q among ru and kk ("kk-KZ" counts as kk;
    on a tie the one listed first)."""
    best: tuple[float, int, Lang] | None = None
    for position, item in enumerate(header.split(",")[:_MAX_RANGES]):
        tag, _, params = item.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LANGS:
            continue
        quality = _quality(params)
        if quality <= 0:
            continue
        candidate = (quality, -position, primary)
        if best is None or candidate[:2] > best[:2]:
            best = candidate
    return best[2] if best else DEFAULT_LANG


def _quality(params: str) -> float:
    for param in params.split(";"):
        key, _, value = param.strip().partition("=")
        if key.strip().lower() == "q":
            try:
                quality = float(value)
            except ValueError:
                return 0.0
            return quality if 0.0 <= quality <= 1.0 else 0.0
    return 1.0
