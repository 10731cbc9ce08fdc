"""Sign-up, sign-in (customers and staff), the refresh cookie, sign-out, a new password."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from shared.auth import require_customer
from shared.db import PG_POOL
from shared.http import Problem, json_response, problem_response, read_json, route_path
from shared.logging import get_logger

from .. import refresh_sessions, storage
from ..accounts import BadCredentials, SignedIn
from ..config import Settings
from ..keys import ACCOUNTS, ISSUER, SETTINGS
from ..network import network_of
from ..request_models import LoginRequest, PasswordChange, RegisterRequest, StaffLoginRequest

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
    request: web.Request, subject: UUID, kind: str, roles: frozenset[str]
) -> dict[str, Any]:
    issuer = request.app[ISSUER]
    token = issuer.issue(subject, "staff" if kind == "staff" else "customer", roles)
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
    request: web.Request, signed_in: SignedIn, refresh_token: str
) -> web.Response:
    body = _token_body(request, signed_in.subject, "customer", frozenset())
    body["policy_version"] = signed_in.policy_version
    body["policy_acceptance_required"] = signed_in.policy_acceptance_required
    response = json_response(body, headers={"Cache-Control": "no-store"})
    set_refresh_cookie(response, request.app[SETTINGS], refresh_token)
    return response


async def login(request: web.Request) -> web.Response:
    body = await read_json(request, LoginRequest)
    accounts = request.app[ACCOUNTS]
    try:
        async with request.app[PG_POOL].acquire() as conn:
            signed_in = await accounts.login(conn, body, network_of(request))
            refresh = await refresh_sessions.start(
                conn, signed_in.subject, request.app[SETTINGS].refresh_ttl_s
            )
    except BadCredentials:
        raise Problem(401, "Unauthorized", "The login or password is wrong.") from None
    return _session_response(request, signed_in, refresh)


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
    return _session_response(request, signed_in, session.token)


async def logout(request: web.Request) -> web.Response:
    presented = request.cookies.get(REFRESH_COOKIE, "")
    if presented and len(presented) <= 128:
        async with request.app[PG_POOL].acquire() as conn, conn.transaction():
            await refresh_sessions.end(conn, presented)
    response = web.Response(status=204)
    set_refresh_cookie(response, request.app[SETTINGS], "")
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
            await request.app[ACCOUNTS].change_password(
                conn,
                customer_id,
                body.current_password.get_secret_value(),
                body.new_password.get_secret_value(),
                network_of(request),
            )
    except BadCredentials:
        raise Problem(403, "Forbidden", "The current password is wrong.") from None
    response = web.Response(status=204)
    set_refresh_cookie(response, request.app[SETTINGS], "")
    return response
