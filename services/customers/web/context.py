"""Per-request state of the account pages and the rendering helpers every page uses."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import UUID
from zoneinfo import ZoneInfo

import jinja2
from aiohttp import web

from .config import WebConfig
from .i18n import LANG_NAMES, Lang, translator
from .security import CSRF_FIELD, Cookies, csrf_token

CONFIG = web.AppKey("account_config", WebConfig)
COOKIES = web.AppKey("account_cookies", Cookies)
CSRF_KEY = web.AppKey("account_csrf_key", bytes)
TEMPLATES = web.AppKey("account_templates", jinja2.Environment)
MAIN_APP = web.AppKey("account_main_app", web.Application)

LANG = web.RequestKey("account_lang", str)
CUSTOMER = web.RequestKey("account_customer", UUID)
BINDING = web.RequestKey("account_csrf_binding", str)

TZ: Final = ZoneInfo("Asia/Almaty")
MENU: Final = (
    ("/account/profile", "profile.title"),
    ("/account/consents", "consents.title"),
    ("/account/disclosures", "disclosures.title"),
    ("/account/export", "export.title"),
    ("/account/block", "block.title"),
    ("/account/delete", "delete.title"),
)


def lang_of(request: web.Request) -> Lang:
    lang = request.get(LANG, "ru")
    return "kk" if lang == "kk" else "en" if lang == "en" else "ru"


def customer_of(request: web.Request) -> UUID | None:
    return request.get(CUSTOMER)


def when(value: datetime) -> str:
    return value.astimezone(TZ).strftime("%d.%m.%Y %H:%M")


def render(
    request: web.Request, template: str, title: str, *, status: int = 200, **context: Any
) -> web.Response:
    lang = lang_of(request)
    binding = request.get(BINDING)
    context = {"notice": None, "saved": False, "values": {}, "errors": {}, **context}
    html = (
        request.config_dict[TEMPLATES]
        .get_template(template)
        .render(
            t=translator(lang),
            lang=lang,
            langs=LANG_NAMES,
            title=title,
            signed_in=customer_of(request) is not None,
            csrf=csrf_token(request.config_dict[CSRF_KEY], binding) if binding else "",
            csrf_field=CSRF_FIELD,
            menu=MENU,
            active=request.path,
            when=when,
            **context,
        )
    )
    return web.Response(text=html, status=status, content_type="text/html", charset="utf-8")


def see_other(location: str) -> web.Response:
    return web.Response(status=303, headers={"Location": location})
