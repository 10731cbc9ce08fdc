"""What every account page uses: the request's language and customer, rendering, redirects."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Final
from uuid import UUID
from zoneinfo import ZoneInfo

from aiohttp import web

from ..keys import BINDING, CSRF_KEY, CUSTOMER, LANG, TEMPLATES
from .i18n import LANG_NAMES, Lang, translator
from .security import CSRF_FIELD, csrf_token

PROFILE: Final = "/account/profile"
SIGNIN: Final = "/account/signin"
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


def require_signed_in(request: web.Request) -> UUID:
    customer = customer_of(request)
    if customer is None:
        raise web.HTTPSeeOther(SIGNIN)
    return customer


def actor(customer_id: UUID) -> str:
    return f"customer:{customer_id}"


def when(value: datetime) -> str:
    return value.astimezone(TZ).strftime("%d.%m.%Y %H:%M")


def render(
    request: web.Request, template: str, title: str, *, status: int = 200, **context: Any
) -> web.Response:
    lang = lang_of(request)
    binding = request.get(BINDING)
    context = {"notice": None, "saved": False, "values": {}, "errors": {}, "back": None, **context}
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
