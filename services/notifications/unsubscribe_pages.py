"""The small pages of the unsubscribe link, in the reader's language (ru, kk, en by
``Accept-Language``): plain HTML from this service alone (no script, no style, no
third-party asset), under a CSP that allows nothing else.

Pure apart from rendering the template: which language, which words, which headers.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Final, Literal

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from services.notifications.domain import DEFAULT_LOCALE, LOCALES, Channel, Locale, pick_locale

PAGES_DIR = Path(__file__).parent / "templates" / "pages"
Page = Literal["confirm", "done", "invalid"]

CSP: Final = (
    "default-src 'none'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; "
    "img-src 'none'; script-src 'none'; style-src 'none'"
)
HEADERS: Final[Mapping[str, str]] = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    # The link's token is in the address: no other site may be told it.
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
}

_WHAT: Final[Mapping[Locale, Mapping[Channel, str]]] = {
    "ru": {"email": "рекламные письма", "sms": "рекламные SMS"},
    "kk": {"email": "жарнамалық хаттар", "sms": "жарнамалық SMS"},
    "en": {"email": "marketing emails", "sms": "marketing text messages"},
}
# page -> locale -> (title, text with {what}, button)
_WORDS: Final[Mapping[Page, Mapping[Locale, tuple[str, str, str]]]] = {
    "confirm": {
        "ru": (
            "Отписаться от рассылки",
            "Нажмите кнопку, и магазин больше не будет присылать вам {what}. "
            "Письма о ваших заказах продолжат приходить.",
            "Отписаться",
        ),
        "kk": (
            "Таратылымнан бас тарту",
            "Түймені басыңыз, сонда дүкен сізге бұдан былай {what} жібермейді. "
            "Тапсырыстарыңыз туралы хаттар келе береді.",
            "Бас тарту",
        ),
        "en": (
            "Unsubscribe",
            "Press the button and the shop will send you no more {what}. "
            "Messages about your orders will still come.",
            "Unsubscribe",
        ),
    },
    "done": {
        "ru": ("Вы отписались", "Магазин больше не будет присылать вам {what}.", ""),
        "kk": ("Сіз бас тарттыңыз", "Дүкен сізге бұдан былай {what} жібермейді.", ""),
        "en": ("You are unsubscribed", "The shop will send you no more {what}.", ""),
    },
    "invalid": {
        "ru": (
            "Ссылка недействительна",
            "Эта ссылка неверна или устарела. Отказаться от рассылки можно в личном кабинете.",
            "",
        ),
        "kk": (
            "Сілтеме жарамсыз",
            "Бұл сілтеме қате немесе ескірген. Таратылымнан жеке кабинетте бас тартуға болады.",
            "",
        ),
        "en": (
            "This link does not work",
            "The link is wrong or has expired. You can unsubscribe in your account.",
            "",
        ),
    },
}


def choose_locale(accept_language: str | None) -> Locale:
    """The first language of ``Accept-Language`` (by q, then order) we have pages in."""
    best: tuple[float, int, Locale] | None = None
    for index, part in enumerate((accept_language or "")[:512].split(",")):
        tag, _, params = part.strip().partition(";")
        primary = tag.strip().lower().split("-")[0]
        if primary not in LOCALES:
            continue
        quality = _quality(params)
        if quality <= 0:
            continue
        candidate = (-quality, index, pick_locale(primary))
        if best is None or candidate < best:
            best = candidate
    return best[2] if best else DEFAULT_LOCALE


def _quality(params: str) -> float:
    name, _, value = params.strip().partition("=")
    if name.strip().lower() != "q":
        return 1.0
    try:
        quality = float(value)
    except ValueError:
        return 0.0
    return quality if 0.0 <= quality <= 1.0 else 0.0


class UnsubscribePages:
    def __init__(self, directory: Path = PAGES_DIR) -> None:
        self._template = Environment(
            loader=FileSystemLoader(directory),
            autoescape=select_autoescape(default=True),
            undefined=StrictUndefined,
        ).get_template("unsubscribe.html")

    def render(
        self, page: Page, locale: Locale, channel: Channel = "email", action: str | None = None
    ) -> str:
        title, text, button = _WORDS[page][locale]
        words = {"title": title, "text": text.format(what=_WHAT[locale][channel]), "button": button}
        return self._template.render(locale=locale, t=words, action=action)
