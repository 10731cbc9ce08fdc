"""Sign-up, sign-in (customers and staff), the refresh cookie, sign-out, a new password."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from shared import revocations
from shared.auth import PRINCIPAL, require_customer
from shared.db import PG_POOL
from shared.http import Problem, json_response, problem_response, read_json, route_path
from shared.logging import get_logger
from shared.revocations import REVOCATIONS

from .. import access, refresh_sessions, storage
from ..accounts import BadCredentials, SignedIn
from ..config import Settings
from ..keys import ACCOUNTS, ISSUER, PAGE_COOKIES, SETTINGS
from ..network import network_of
from ..request_models import LoginRequest, PasswordChange, RegisterRequest, StaffLoginRequest
from ..web import sessions as page_sessions

log = get_logger("customers.http")
REFRESH_COOKIE = "refresh_token"
COOKIE_PATH = "/api/customers"


async def register(request: web.Request) -> web.Response:
    body = await read_json(request, RegisterRequest)
    accounts = request.app[ACCOUNTS]
    password_hash = await accounts.hash_password(body.password.get_secret_value())
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        customer_id = await accounts.register(conn, body, password_hash)
    log.info("customer registered", customer_id=str(customer_id))
    return json_response({"id": str(customer_id)}, status=201)


def _token_body(
    request: web.Request,
    subject: UUID,
    kind: str,
    roles: frozenset[str],
    session_id: UUID | None = None,
) -> dict[str, Any]:
    issuer = request.app[ISSUER]
    token = issuer.issue(subject, "staff" if kind == "staff" else "customer", roles, session_id)
    return {"access_token": token, "token_type": "Bearer", "expires_in": issuer.ttl_s}


def _token(request: web.Request, subject: UUID, kind: str, roles: frozenset[str]) -> web.Response:
    return json_response(
        _token_body(request, subject, kind, roles), headers={"Cache-Control": "no-store"}
    )


def set_refresh_cookie(response: web.StreamResponse, settings: Settings, token: str) -> None:
    response.set_cookie(
        REFRESH_COOKIE,
        token,
        max_age=settings.refresh_ttl_s if token else 0,
        path=COOKIE_PATH,
        secure=settings.refresh_cookie_secure,
        httponly=True,
        samesite="Strict",
    )


def _session_response(
    request: web.Request, signed_in: SignedIn, session: refresh_sessions.Session
) -> web.Response:
    body = _token_body(request, signed_in.subject, "customer", frozenset(), session.session_id)
    body["policy_version"] = signed_in.policy_version
    body["policy_acceptance_required"] = signed_in.policy_acceptance_required
    response = json_response(body, headers={"Cache-Control": "no-store"})
    set_refresh_cookie(response, request.app[SETTINGS], session.token)
    return response


async def login(request: web.Request) -> web.Response:
    body = await read_json(request, LoginRequest)
    accounts = request.app[ACCOUNTS]
    try:
        async with request.app[PG_POOL].acquire() as conn:
            signed_in = await accounts.login(conn, body, network_of(request))
            session = await refresh_sessions.start(
                conn, signed_in.subject, request.app[SETTINGS].refresh_ttl_s
            )
    except BadCredentials:
        raise Problem(401, "Unauthorized", "The login or password is wrong.") from None
    return _session_response(request, signed_in, session)


def _no_session(request: web.Request) -> web.Response:
    response = problem_response(
        401,
        "Unauthorized",
        "The session is missing, expired or revoked; sign in again.",
        route_path(request),
    )
    set_refresh_cookie(response, request.app[SETTINGS], "")
    return response


async def refresh_token(request: web.Request) -> web.Response:
    """Rotate the refresh cookie and answer a new access token (a reused token revokes all)."""
    presented = request.cookies.get(REFRESH_COOKIE, "")
    if not presented or len(presented) > 128:
        return _no_session(request)
    async with request.app[PG_POOL].acquire() as conn:
        async with conn.transaction():
            session = await refresh_sessions.rotate(
                conn, presented, request.app[SETTINGS].refresh_ttl_s
            )
        if session is None:
            return _no_session(request)
        policy = await storage.current_policy(conn)
        customer = await storage.get_customer(conn, session.customer_id)
    required = customer is not None and customer.policy_version != policy.version
    signed_in = SignedIn(session.customer_id, frozenset(), policy.version, required)
    return _session_response(request, signed_in, session)


def _bearer_session(request: web.Request) -> tuple[UUID, UUID] | None:
    principal = request.get(PRINCIPAL)
    if principal is None or principal.kind != "customer" or principal.session_id is None:
        return None
    return principal.subject, principal.session_id


async def logout(request: web.Request) -> web.Response:
    """End the session of the refresh cookie and of the bearer token, whichever are sent:
    its refresh family and its access tokens, in every service. A browser signed in on the
    account pages too (the storefront signs in there) is signed out of them as well."""
    presented = request.cookies.get(REFRESH_COOKIE, "")
    ttl_s = request.app[SETTINGS].access_token_ttl_s
    page_cookies = request.app.get(PAGE_COOKIES)
    page_session = request.cookies.get(page_cookies.session) if page_cookies else None
    ended = []
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        found = await refresh_sessions.find(conn, presented) if 0 < len(presented) <= 128 else None
        sessions = {found, _bearer_session(request)}
        for customer_id, session_id in (session for session in sessions if session):
            ended.append(await access.end_session(conn, customer_id, session_id, ttl_s))
        if page_session:
            await page_sessions.delete(conn, page_session)
    for event in ended:
        request.app[REVOCATIONS].add(revocations.from_event(event))
    response = web.Response(status=204)
    set_refresh_cookie(response, request.app[SETTINGS], "")
    if page_cookies and page_session:
        page_cookies.clear(response, page_cookies.session)
    return response


async def staff_login(request: web.Request) -> web.Response:
    body = await read_json(request, StaffLoginRequest)
    try:
        async with request.app[PG_POOL].acquire() as conn:
            signed_in = await request.app[ACCOUNTS].staff_login(
                conn, body.email, body.password.get_secret_value(), network_of(request)
            )
    except BadCredentials:
        raise Problem(401, "Unauthorized", "The login or password is wrong.") from None
    return _token(request, signed_in.subject, "staff", signed_in.roles)


async def change_password(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    body = await read_json(request, PasswordChange)
    try:
        async with request.app[PG_POOL].acquire() as conn:
            revoked = await request.app[ACCOUNTS].change_password(
                conn,
                customer_id,
                body.current_password.get_secret_value(),
                body.new_password.get_secret_value(),
                network_of(request),
            )
    except BadCredentials:
        raise Problem(403, "Forbidden", "The current password is wrong.") from None
    request.app[REVOCATIONS].add(revocations.from_event(revoked))
    response = web.Response(status=204)
    set_refresh_cookie(response, request.app[SETTINGS], "")
    return response
