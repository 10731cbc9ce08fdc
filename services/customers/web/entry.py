"""The account pages before and at the door: the policy, sign-up, sign-in and -out, and
accepting a new policy version (policy 5.8). Thin handlers over ``Accounts`` and the
same models as the JSON API."""

from __future__ import annotations

import re
from typing import Any, Final
from uuid import UUID

from aiohttp import web
from pydantic import ValidationError

from shared.db import PG_POOL
from shared.logging import get_logger

from .. import refresh_sessions, storage
from ..accounts import BadCredentials, PolicyMismatch
from ..handlers.auth import set_refresh_cookie
from ..keys import ACCOUNTS, CONFIG, COOKIES, SETTINGS
from ..network import network_of
from ..request_models import LoginRequest, RegisterRequest
from ..throttle import Throttled
from . import forms, sessions
from .context import PROFILE, SIGNIN, customer_of, lang_of, render, require_signed_in, see_other

log = get_logger("customers.account_pages")

# Where sign-in and sign-up may send the browser back to (``?next=``): a page of the
# storefront on this site. Never another host ("//host", "/\\host"), never the account
# pages or the API, nothing but plain path and query characters (no open redirect).
RETURN_FIELD: Final = "next"
_RETURN_PATH = re.compile(r"/(?!/)[A-Za-z0-9/_.-]{0,120}(?:\?[A-Za-z0-9=&_.%-]{0,200})?")
_NOT_STOREFRONT: Final = ("/account", "/api", "/internal")


def return_path(value: object) -> str | None:
    """The storefront page to return to, or None when ``value`` is not one."""
    if not isinstance(value, str) or not _RETURN_PATH.fullmatch(value):
        return None
    return None if value.startswith(_NOT_STOREFRONT) else value


def asked_return(request: web.Request, form: Any = None) -> str | None:
    source = form if form is not None else request.query
    return return_path(source.get(RETURN_FIELD))


async def start_session(
    request: web.Request, customer_id: UUID, location: str, *, to_storefront: bool = False
) -> web.Response:
    """A fresh session id for this browser (the old one, if any, ends: no fixation).

    Returning to the storefront, the browser also gets the API's refresh cookie (a session
    of ``/api/customers/token/refresh``, as ``/api/customers/login`` starts one): the
    storefront is a client of the public API and gets its access tokens there.
    """
    cookies, config = request.config_dict[COOKIES], request.config_dict[CONFIG]
    old = request.cookies.get(cookies.session)
    async with request.config_dict[PG_POOL].acquire() as conn:
        if old:
            await sessions.delete(conn, old)
        await sessions.purge_expired(conn)
        session_id = await sessions.create(conn, customer_id, config.session_max_age_s)
    response = see_other(location)
    cookies.set(response, cookies.session, session_id, config.session_max_age_s)
    cookies.clear(response, cookies.anon)
    if to_storefront:
        await give_api_session(request, response, customer_id)
    return response


async def give_api_session(
    request: web.Request, response: web.StreamResponse, customer_id: UUID
) -> None:
    settings = request.config_dict[SETTINGS]
    async with request.config_dict[PG_POOL].acquire() as conn:
        api = await refresh_sessions.start(conn, customer_id, settings.refresh_ttl_s)
    set_refresh_cookie(response, settings, api.token)


async def back_to_storefront(
    request: web.Request, customer_id: UUID, location: str
) -> web.Response:
    """Already signed in here: a new API session for the storefront, and back to it."""
    response = see_other(location)
    await give_api_session(request, response, customer_id)
    return response


Block = tuple[str, str]  # ("h" | "p", text)


def policy_blocks(text: str) -> list[Block]:
    """The stored Markdown as headings and paragraphs (escaped by the template, no HTML)."""
    blocks: list[Block] = []
    for chunk in text.split("\n\n"):
        chunk = chunk.strip().replace("**", "")
        if chunk.startswith("#"):
            blocks.append(("h", chunk.lstrip("#").strip()))
        elif chunk:
            blocks.append(("p", chunk))
    return blocks


def policy_text(policy: storage.Policy, lang: str) -> list[tuple[str, list[Block]]]:
    """The texts to show, each with its language: the Kazakh text on a kk page, else the
    Russian one (there is no English text; the en page says so)."""
    if lang == "kk":
        return [("kk", policy_blocks(policy.text_kk))]
    return [("ru", policy_blocks(policy.text_ru))]


async def current_policy(request: web.Request) -> storage.Policy:
    async with request.config_dict[PG_POOL].acquire() as conn:
        return await storage.current_policy(conn)


# --- Entry, policy ---------------------------------------------------------------------------


async def index(request: web.Request) -> web.Response:
    return see_other(PROFILE if customer_of(request) else SIGNIN)


async def render_with_policy(
    request: web.Request, template: str, title: str, *, status: int = 200, **context: Any
) -> web.Response:
    """A page showing the current policy's text (the policy, sign-up, acceptance)."""
    policy = await current_policy(request)
    texts = policy_text(policy, lang_of(request))
    return render(request, template, title, status=status, policy=policy, texts=texts, **context)


async def policy_page(request: web.Request) -> web.Response:
    return await render_with_policy(request, "policy.html", "policy")


# --- Sign up ---------------------------------------------------------------------------------


async def signup_form(request: web.Request) -> web.Response:
    customer_id, back = customer_of(request), asked_return(request)
    if customer_id and back:
        return await back_to_storefront(request, customer_id, back)
    if customer_id:
        return see_other(PROFILE)
    return await _signup_page(request, back=back)


async def _signup_page(
    request: web.Request,
    *,
    status: int = 200,
    values: dict[str, str] | None = None,
    errors: forms.FieldErrors | None = None,
    notice: str | None = None,
    back: str | None = None,
) -> web.Response:
    return await render_with_policy(
        request,
        "signup.html",
        "signup.title",
        status=status,
        values=values or {},
        errors=errors or {},
        notice=notice,
        back=back,
        recipients_abroad=request.config_dict[ACCOUNTS].gate.countries.abroad(),
    )


async def signup(request: web.Request) -> web.Response:
    form = await request.post()
    version = forms.text(form, "accept_policy_version")
    accepted = forms.checked(form, "accept_policy") and version is not None
    data = forms.registration(form, version if accepted else None, lang_of(request))
    errors: forms.FieldErrors = {} if accepted else {"accept_policy": "policy.required"}
    try:
        body = RegisterRequest.model_validate(data)
    except ValidationError as exc:
        errors = {**forms.field_errors(exc), **errors}
        errors.pop("accept_policy_version", None)
    back = asked_return(request, form)
    if errors:
        values = forms.echo(form)
        return await _signup_page(request, status=422, values=values, errors=errors, back=back)
    return await _register(request, body, form, back)


async def _register(
    request: web.Request, body: RegisterRequest, form: Any, back: str | None
) -> web.Response:
    accounts = request.config_dict[ACCOUNTS]
    password_hash = await accounts.hash_password(body.password.get_secret_value())
    try:
        async with request.config_dict[PG_POOL].acquire() as conn, conn.transaction():
            customer_id = await accounts.register(conn, body, password_hash)
    except PolicyMismatch:
        values = {k: v for k, v in forms.echo(form).items() if k != "accept_policy"}
        return await _signup_page(
            request, status=409, values=values, notice="signup.policy_changed", back=back
        )
    except storage.Conflict:
        return await _signup_page(
            request, status=409, values=forms.echo(form), notice="signup.taken", back=back
        )
    log.info("customer registered", customer_id=str(customer_id), channel="account_pages")
    return await start_session(request, customer_id, back or PROFILE, to_storefront=bool(back))


# --- Sign in / out ---------------------------------------------------------------------------


async def signin_form(request: web.Request) -> web.Response:
    customer_id, back = customer_of(request), asked_return(request)
    if customer_id and back:
        return await back_to_storefront(request, customer_id, back)
    if customer_id:
        return see_other(PROFILE)
    signed_out = "signed_out" in request.query
    notice = "signed_out" if signed_out else None
    return render(request, "signin.html", "signin.title", notice=notice, back=back)


async def signin(request: web.Request) -> web.Response:
    form = await request.post()
    login = forms.text(form, "login") or ""
    values, back = {"login": login}, asked_return(request, form)
    try:
        body = LoginRequest.model_validate({"login": login, "password": form.get("password") or ""})
        async with request.config_dict[PG_POOL].acquire() as conn:
            signed_in = await request.config_dict[ACCOUNTS].login(conn, body, network_of(request))
    except (ValidationError, BadCredentials):
        return render(
            request,
            "signin.html",
            "signin.title",
            status=401,
            values=values,
            notice="signin.bad",
            back=back,
        )
    except Throttled as exc:
        response = render(
            request,
            "signin.html",
            "signin.title",
            status=429,
            values=values,
            notice="signin.throttled",
            back=back,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    if signed_in.policy_acceptance_required:
        next_page = "/account/policy/accept"
    else:
        next_page = back or PROFILE
    return await start_session(request, signed_in.subject, next_page, to_storefront=bool(back))


async def signout(request: web.Request) -> web.Response:
    cookies = request.config_dict[COOKIES]
    session_id = request.cookies.get(cookies.session)
    if session_id:
        async with request.config_dict[PG_POOL].acquire() as conn:
            await sessions.delete(conn, session_id)
    response = see_other(SIGNIN + "?signed_out=1")
    cookies.clear(response, cookies.session)
    return response


# --- Policy acceptance (a new version is in effect, policy 5.8) ------------------------------


async def _accept_page(
    request: web.Request, *, status: int = 200, errors: forms.FieldErrors | None = None
) -> web.Response:
    return await render_with_policy(
        request, "policy_accept.html", "policy", status=status, errors=errors or {}
    )


async def accept_form(request: web.Request) -> web.Response:
    require_signed_in(request)
    return await _accept_page(request)


async def accept(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    form = await request.post()
    version = form.get("accept_policy_version")
    if not forms.checked(form, "accept_policy") or not isinstance(version, str):
        return await _accept_page(request, status=422, errors={"accept_policy": "policy.required"})
    try:
        async with request.config_dict[PG_POOL].acquire() as conn, conn.transaction():
            await request.config_dict[ACCOUNTS].accept_policy(conn, customer_id, version)
    except PolicyMismatch:
        return see_other("/account/policy/accept")
    return see_other(PROFILE)


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/", index)
    router.add_get("/policy", policy_page)
    router.add_get("/signup", signup_form)
    router.add_post("/signup", signup)
    router.add_get("/signin", signin_form)
    router.add_post("/signin", signin)
    router.add_post("/signout", signout)
    router.add_get("/policy/accept", accept_form)
    router.add_post("/policy/accept", accept)
