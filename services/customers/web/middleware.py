"""The middleware of the account pages: language, session, CSRF, errors as pages, headers."""

from __future__ import annotations

from aiohttp import web

from shared.db import PG_POOL
from shared.http import Handler, route_path
from shared.logging import get_logger

from ..accounts import PolicyAcceptanceRequired
from ..keys import BINDING, CONFIG, COOKIES, CSRF_KEY, CUSTOMER, LANG
from ..personal_data import CustomerUnavailable
from . import sessions
from .context import render, see_other
from .forms import Form
from .i18n import LANG_COOKIE, choose
from .security import CSRF_FIELD, apply_headers, csrf_valid, new_anon_value, same_origin

log = get_logger("customers.account_pages")
STATIC_PREFIX = "/account/static/"
ERROR_KEYS = {403: "error.csrf", 404: "error.not_found", 405: "error.method"}


@web.middleware
async def pages_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    lang, set_lang = choose(request)
    request[LANG] = lang
    new_anon: str | None = None
    try:
        new_anon = await _identify(request)
        if request.method == "POST" and not await _csrf_ok(request):
            response: web.StreamResponse = error_page(request, 403)
        else:
            response = await handler(request)
    except web.HTTPException as exc:
        response = _from_http_exception(request, exc)
    except PolicyAcceptanceRequired:
        response = see_other("/account/policy/accept")
    except CustomerUnavailable:  # erased meanwhile: the session is worth nothing
        response = see_other("/account/signin")
        request.config_dict[COOKIES].clear(response, request.config_dict[COOKIES].session)
    except Exception:
        log.exception("account page failed", route=route_path(request), method=request.method)
        response = error_page(request, 500)
    static = request.path.startswith(STATIC_PREFIX)
    apply_headers(response, cacheable=static)
    cookies = request.config_dict[COOKIES]
    if set_lang:
        response.set_cookie(
            LANG_COOKIE,
            lang,
            max_age=365 * 86400,
            path="/",
            samesite="Lax",
            httponly=True,
            secure=cookies.secure,
        )
    if new_anon and not static:
        cookies.set(response, cookies.anon, new_anon, None)
    return response


async def _identify(request: web.Request) -> str | None:
    """Find the signed-in customer; otherwise bind CSRF to the anonymous cookie (new or not).

    Returns a new anonymous value that the response must set, if one was made.
    """
    cookies = request.config_dict[COOKIES]
    session_id = request.cookies.get(cookies.session)
    if session_id:
        async with request.config_dict[PG_POOL].acquire() as conn:
            customer = await sessions.resolve(
                conn, session_id, request.config_dict[CONFIG].session_idle_s
            )
        if customer is not None:
            request[CUSTOMER] = customer
            request[BINDING] = "session:" + session_id
            return None
    anon = request.cookies.get(cookies.anon)
    if anon and 20 <= len(anon) <= 64:
        request[BINDING] = "anon:" + anon
        return None
    anon = new_anon_value()
    request[BINDING] = "anon:" + anon
    return anon


async def _csrf_ok(request: web.Request) -> bool:
    if not same_origin(request):
        return False
    form = await read_form(request)
    presented = form.get(CSRF_FIELD)
    return csrf_valid(
        request.config_dict[CSRF_KEY],
        request.get(BINDING),
        presented if isinstance(presented, str) else None,
    )


async def read_form(request: web.Request) -> Form:
    """The posted form: UTF-8 ``application/x-www-form-urlencoded`` only, what the pages
    send; any other body is a 415 or 400 page (aiohttp raises on it: a 500 before)."""
    charset = (request.charset or "utf-8").lower()
    if request.content_type != "application/x-www-form-urlencoded" or charset != "utf-8":
        raise web.HTTPUnsupportedMediaType()
    try:
        return await request.post()
    except UnicodeDecodeError:
        raise web.HTTPBadRequest() from None


def _from_http_exception(request: web.Request, exc: web.HTTPException) -> web.StreamResponse:
    if exc.status < 400:
        return web.Response(status=exc.status, headers=exc.headers)
    return error_page(request, exc.status)


def error_page(request: web.Request, status: int) -> web.Response:
    key = ERROR_KEYS.get(status, "error.internal" if status >= 500 else "error.generic")
    return render(request, "error.html", "error.title", status=status, message=key)
