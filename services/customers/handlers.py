"""HTTP handlers of the customers service: parse, call accounts / the PD gate, answer.

Problems never echo a value that was sent (it may be personal data).
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import aiohttp
from aiohttp import web

from shared.auth import (
    INTERNAL_TOKEN_HEADER,
    TokenIssuer,
    require_customer,
    require_internal,
    require_role,
)
from shared.db import PG_POOL
from shared.http import Handler, Problem, json_response, problem_response, query_model, read_json
from shared.logging import get_logger
from shared.service import HTTP_CLIENT

from . import storage
from .accounts import (
    Accounts,
    BadCredentials,
    PolicyAcceptanceRequired,
    PolicyMismatch,
    PolicyNotPublishable,
    SignedIn,
    Throttled,
)
from .config import Settings
from .domain import (
    ConsentsUpdate,
    LoginRequest,
    PasswordChange,
    PolicyAcceptance,
    PolicyQuery,
    PolicyVersionIn,
    ProfilePatch,
    PurposeNotAllowed,
    RegisterRequest,
    ReleaseRequest,
    StaffLoginRequest,
    client_network,
)
from .pd import CustomerBlocked, CustomerUnavailable

ACCOUNTS = web.AppKey("customers_accounts", Accounts)
ISSUER = web.AppKey("customers_token_issuer", TokenIssuer)
SETTINGS = web.AppKey("customers_settings", Settings)
JWKS = web.AppKey("customers_jwks", dict[str, Any])
log = get_logger("customers.http")
REFRESH_COOKIE = "refresh_token"
COOKIE_PATH = "/api/customers"
POLICY_ACCEPTANCE_REQUIRED = "policy-acceptance-required"


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn the service's refusals into problems (inside the shared problem middleware)."""
    try:
        return await handler(request)
    except CustomerUnavailable:
        raise Problem(404, "Not found", "No such customer, or their data is erased.") from None
    except CustomerBlocked:
        raise Problem(409, "Blocked", "Processing of this customer's data is blocked.") from None
    except PurposeNotAllowed as exc:
        raise Problem(403, "Purpose not allowed", str(exc)) from None
    except storage.Conflict:
        raise Problem(
            409, "Already registered", "An account with this email or phone already exists."
        ) from None
    except PolicyMismatch as exc:
        raise Problem(
            409,
            "Policy version mismatch",
            "Read and accept the current privacy policy version.",
            current_version=exc.current,
        ) from None
    except PolicyAcceptanceRequired as exc:
        raise Problem(
            403,
            "Policy acceptance required",
            "A new privacy policy version is in effect; read and accept it first"
            " (POST /api/customers/me/policy-acceptance).",
            type=POLICY_ACCEPTANCE_REQUIRED,
            policy_version=exc.current,
        ) from None
    except Throttled as exc:
        response = problem_response(
            429,
            "Too many attempts",
            "Too many failed sign-ins; try again later.",
            request.path,
            retry_after=exc.retry_after,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response


# --- Policy and keys -------------------------------------------------------------------------


async def get_policy(request: web.Request) -> web.Response:
    query = query_model(request, PolicyQuery)
    async with request.app[PG_POOL].acquire() as conn:
        policy = await storage.current_policy(conn)
    return json_response(
        {
            "version": policy.version,
            "effective_date": policy.effective_date.isoformat(),
            "sha256": policy.sha256,
            "sha256_kk": policy.sha256_kk,
            "lang": query.lang,
            "text": policy.text_kk if query.lang == "kk" else policy.text_ru,
        }
    )


async def get_jwks(request: web.Request) -> web.Response:
    return json_response(request.app[JWKS], headers={"Cache-Control": "public, max-age=300"})


# --- Registration and sign-in ----------------------------------------------------------------


async def register(request: web.Request) -> web.Response:
    body = await read_json(request, RegisterRequest)
    accounts = request.app[ACCOUNTS]
    password_hash = await accounts.hash_password(body.password.get_secret_value())
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        customer_id = await accounts.register(conn, body, password_hash)
    log.info("customer registered", customer_id=str(customer_id))
    return json_response({"id": str(customer_id)}, status=201)


def network_of(request: web.Request) -> str:
    """The client's /24 or /48 network (nginx sets X-Real-IP and X-Forwarded-For)."""
    return client_network(
        request.headers.get("X-Real-IP"), request.headers.get("X-Forwarded-For"), request.remote
    )


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
            refresh = await accounts.start_session(
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
        request.path,
    )
    set_refresh_cookie(response, request.app[SETTINGS], "")
    return response


async def refresh_token(request: web.Request) -> web.Response:
    """Rotate the refresh cookie and answer a new access token (a reused token revokes all)."""
    presented = request.cookies.get(REFRESH_COOKIE, "")
    if not presented or len(presented) > 128:
        return _no_session(request)
    accounts = request.app[ACCOUNTS]
    async with request.app[PG_POOL].acquire() as conn:
        async with conn.transaction():
            session = await accounts.rotate_session(
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
            await request.app[ACCOUNTS].end_session(conn, presented)
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
            )
    except BadCredentials:
        raise Problem(403, "Forbidden", "The current password is wrong.") from None
    response = web.Response(status=204)
    set_refresh_cookie(response, request.app[SETTINGS], "")
    return response


# --- Policy versions (policy 5.8) ------------------------------------------------------------


async def publish_policy(request: web.Request) -> web.Response:
    staff = require_role(request, "privacy_officer")
    body = await read_json(request, PolicyVersionIn)
    try:
        async with request.app[PG_POOL].acquire() as conn, conn.transaction():
            policy = await request.app[ACCOUNTS].publish_policy(conn, body, staff.subject)
    except storage.Conflict:
        raise Problem(409, "Version exists", "This policy version is already published.") from None
    except PolicyNotPublishable:
        raise Problem(
            409,
            "Effective date too early",
            "A new version takes effect today or later, not before the latest published one.",
        ) from None
    log.info("policy published", version=policy.version)
    return json_response(
        {
            "version": policy.version,
            "effective_date": policy.effective_date.isoformat(),
            "sha256": policy.sha256,
            "sha256_kk": policy.sha256_kk,
        },
        status=201,
    )


async def accept_policy(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    body = await read_json(request, PolicyAcceptance)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        recorded = await request.app[ACCOUNTS].accept_policy(conn, customer_id, body.version)
    return json_response({"policy_version": body.version, "recorded": recorded})


# --- The customer's own data -----------------------------------------------------------------


async def get_me(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        profile = await request.app[ACCOUNTS].profile(conn, customer_id, f"customer:{customer_id}")
    return json_response(profile, headers={"Cache-Control": "no-store"})


async def patch_me(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    body = await read_json(request, ProfilePatch)
    accounts = request.app[ACCOUNTS]
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        await accounts.require_current_policy(conn, customer_id)
        await accounts.patch_profile(conn, customer_id, body)
        profile = await accounts.profile(conn, customer_id, f"customer:{customer_id}")
    return json_response(profile, headers={"Cache-Control": "no-store"})


def disclosure_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "release_id": str(row["release_id"]),
        "recipient": row["recipient"],
        "purpose": row["purpose"],
        "fields": list(row["fields"]),
        "at": row["at"].isoformat(),
        "order_ref": row["order_ref"],
        "legal_basis": row["legal_basis"],
    }


async def get_disclosures(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    async with request.app[PG_POOL].acquire() as conn:
        rows = await storage.disclosures(conn, customer_id)
    return json_response({"items": [disclosure_item(row) for row in rows]})


async def get_consents(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    async with request.app[PG_POOL].acquire() as conn:
        consents = await request.app[ACCOUNTS].consents(conn, customer_id)
    return json_response(consents)


async def put_consents(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    body = await read_json(request, ConsentsUpdate)
    accounts = request.app[ACCOUNTS]
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        if body.marketing.email or body.marketing.sms:  # withdrawing is always possible
            await accounts.require_current_policy(conn, customer_id)
        await accounts.set_marketing(conn, customer_id, body.marketing)
        consents = await accounts.consents(conn, customer_id)
    return json_response(consents)


def consent_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "granted": row["granted"],
        "policy_version": row["policy_version"],
        "record": row["record"],
        "recorded_at": row["recorded_at"].isoformat(),
    }


async def get_export(request: web.Request) -> web.Response:
    document = await export_document(request.app, require_customer(request))
    return json_response(
        document,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="my-data.json"',
        },
    )


async def export_document(app: web.Application, customer_id: UUID) -> dict[str, Any]:
    """Everything held about the customer across the services (the API and the pages)."""
    accounts = app[ACCOUNTS]
    async with app[PG_POOL].acquire() as conn, conn.transaction():
        profile = await accounts.profile(conn, customer_id, f"customer:{customer_id}")
        consents = await storage.consent_history(conn, customer_id)
        released = await storage.disclosures(conn, customer_id)
    settings = app[SETTINGS]
    (orders, orders_note), (notes_items, notes_note) = await asyncio.gather(
        fetch_section(app, settings.orders_url, customer_id, "orders"),
        fetch_section(app, settings.notifications_url, customer_id, "notifications"),
    )
    notes = {k: v for k, v in (("orders", orders_note), ("notifications", notes_note)) if v}
    document: dict[str, Any] = {
        "profile": profile,
        "consents": [consent_item(row) for row in consents],
        "disclosures": [disclosure_item(row) for row in released],
        "orders": orders,
        "notifications": notes_items,
        "complete": not notes,
    }
    if notes:
        document["notes"] = notes
    return document


async def fetch_section(
    app: web.Application, base_url: str, customer_id: UUID, section: str
) -> tuple[list[Any], str | None]:
    """A service's export section of this customer, or an empty list and a note why."""
    if not base_url:
        return [], f"the {section} service is not configured here; nothing is held there"
    url = f"{base_url.rstrip('/')}/internal/customers/{customer_id}/export"
    token = app[SETTINGS].internal_token.get_secret_value()
    try:
        async with app[HTTP_CLIENT].get(url, headers={INTERNAL_TOKEN_HEADER: token}) as response:
            response.raise_for_status()
            data = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("export section unavailable", section=section, error=type(exc).__name__)
        return [], f"the {section} service did not answer; try the export again later"
    items = data.get(section) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return [], f"the {section} service answered in an unexpected shape"
    return items, None


# --- Internal releases (notifications) -------------------------------------------------------


async def post_release(request: web.Request) -> web.Response:
    require_internal(request, request.app[SETTINGS].internal_token.get_secret_value())
    body = await read_json(request, ReleaseRequest)
    if body.recipient.split(":", 1)[0] != "notifications":
        raise Problem(403, "Purpose not allowed", "Only notifications receive contact releases.")
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        release = await request.app[ACCOUNTS].gate.release(
            conn,
            body.customer_id,
            purpose=body.purpose,
            kind=body.channel,
            recipient=body.recipient,
            actor=f"service:{body.recipient}",
            order_ref=body.order_ref,
        )
    return json_response(
        {"release_id": str(release.release_id), "locale": release.locale, "fields": release.fields},
        headers={"Cache-Control": "no-store"},
    )


def add_routes(app: web.Application) -> None:
    prefix = "/api/customers"
    app.router.add_get(f"{prefix}/policy", get_policy)
    app.router.add_get(f"{prefix}/.well-known/jwks.json", get_jwks)
    app.router.add_post(f"{prefix}/register", register)
    app.router.add_post(f"{prefix}/login", login)
    app.router.add_post(f"{prefix}/staff/login", staff_login)
    app.router.add_post(f"{prefix}/token/refresh", refresh_token)
    app.router.add_post(f"{prefix}/logout", logout)
    app.router.add_post(f"{prefix}/policy/versions", publish_policy)
    app.router.add_post(f"{prefix}/me/password", change_password)
    app.router.add_post(f"{prefix}/me/policy-acceptance", accept_policy)
    app.router.add_get(f"{prefix}/me", get_me)
    app.router.add_patch(f"{prefix}/me", patch_me)
    app.router.add_get(f"{prefix}/me/disclosures", get_disclosures)
    app.router.add_get(f"{prefix}/me/consents", get_consents)
    app.router.add_put(f"{prefix}/me/consents", put_consents)
    app.router.add_get(f"{prefix}/me/export", get_export)
    app.router.add_post("/internal/releases", post_release)
