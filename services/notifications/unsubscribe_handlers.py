"""HTTP handlers of the unsubscribe link (``/api/notifications/unsubscribe?token=``).

``GET`` shows a confirmation page with one button and unsubscribes nobody (mail scanners
and link previews open links). ``POST`` unsubscribes: RFC 8058's one-click body
``List-Unsubscribe=One-Click`` from a mail client, or ``confirm=page`` from the page's
button. No cookie, no sign-in, no redirect. A bad, forged or expired token is a 400 that
quotes nothing: a page for a browser (it asks for ``text/html``), a problem otherwise.
"""

from __future__ import annotations

from urllib.parse import urlencode

from aiohttp import web

from services.notifications import unsubscribing
from services.notifications.keys import SETTINGS, UNSUBSCRIBE_PAGES
from services.notifications.unsubscribe_links import (
    PATH,
    BadUnsubscribeToken,
    Unsubscribe,
    read_token,
)
from services.notifications.unsubscribe_pages import HEADERS, Page, choose_locale
from services.notifications.unsubscribing import Via
from shared.db import PG_POOL
from shared.http import Problem

FORM_TYPES = frozenset({"application/x-www-form-urlencoded", "multipart/form-data"})
# The one field a POST carries, and what it says about who sent it.
_BODIES: dict[tuple[str, str], Via] = {
    ("List-Unsubscribe", "One-Click"): "one_click",
    ("confirm", "page"): "page",
}


async def unsubscribe_page(request: web.Request) -> web.Response:
    """``GET``: the confirmation page; nothing changes."""
    target = _target(request)
    if target is None:
        return _invalid(request)
    action = f"{PATH}?{urlencode({'token': request.query['token']})}"
    return _page(request, "confirm", target, action)


async def unsubscribe(request: web.Request) -> web.Response:
    """``POST``: withdraw the marketing consent the link names (once per link)."""
    target = _target(request)
    if target is None:
        return _invalid(request)
    via = await _via(request)
    await unsubscribing.unsubscribe(request.app[PG_POOL], target, via)
    return _page(request, "done", target)


def _target(request: web.Request) -> Unsubscribe | None:
    secret = request.app[SETTINGS].unsubscribe_secret.get_secret_value()
    try:
        return read_token(secret, request.query.get("token", ""))
    except BadUnsubscribeToken:
        return None


def _invalid(request: web.Request) -> web.Response:
    """A 400 quoting nothing: a page for a browser (it asks for text/html), else a problem."""
    if "text/html" in request.headers.get("Accept", ""):
        return _page(request, "invalid", None, status=400)
    raise Problem(400, "Invalid link", "The unsubscribe link is wrong or expired.")


async def _via(request: web.Request) -> Via:
    if request.content_type not in FORM_TYPES:
        raise Problem(
            415, "Unsupported media type", "Send List-Unsubscribe=One-Click as a form body."
        )
    try:
        form = await request.post()
    except web.HTTPRequestEntityTooLarge:
        raise Problem(413, "Body too large", "The request body is larger than allowed.") from None
    except (ValueError, UnicodeDecodeError, AssertionError):
        raise Problem(400, "Invalid form", "The form body cannot be read.") from None
    fields = list(form.items())
    via = _BODIES.get((fields[0][0], str(fields[0][1]))) if len(fields) == 1 else None
    if via is None:
        raise Problem(400, "Invalid form", "Send exactly List-Unsubscribe=One-Click.")
    return via


def _page(
    request: web.Request,
    page: Page,
    target: Unsubscribe | None,
    action: str | None = None,
    *,
    status: int = 200,
) -> web.Response:
    locale = choose_locale(request.headers.get("Accept-Language"))
    channel = target.channel if target else "email"
    text = request.app[UNSUBSCRIBE_PAGES].render(page, locale, channel, action)
    return web.Response(status=status, text=text, content_type="text/html", headers=HEADERS)
