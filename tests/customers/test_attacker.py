"""An attacker's view of every customers route: customer A against B's data, forged,
expired, unsigned and alg-confused tokens, staff tokens on customer routes and the reverse."""

from __future__ import annotations

import time
from typing import Any
from uuid import UUID, uuid4

import jwt
import pytest

from services.customers.app import create_app
from shared.auth import AUDIENCE, ISSUER, TokenIssuer, generate_signing_key_pem
from tests.customers.conftest import Shop

# Every route of the service (besides /account/ pages and health): who may call it.
ROUTES: dict[tuple[str, str], str] = {
    ("GET", "/api/customers/policy"): "public",
    ("GET", "/api/customers/.well-known/jwks.json"): "public",
    ("POST", "/api/customers/register"): "public",
    ("POST", "/api/customers/login"): "public",
    ("POST", "/api/customers/staff/login"): "public",
    ("POST", "/api/customers/token/refresh"): "cookie",
    ("POST", "/api/customers/logout"): "cookie",
    ("GET", "/api/customers/me"): "customer",
    ("PATCH", "/api/customers/me"): "customer",
    ("DELETE", "/api/customers/me"): "customer",
    ("POST", "/api/customers/me/password"): "customer",
    ("POST", "/api/customers/me/policy-acceptance"): "customer",
    ("GET", "/api/customers/me/disclosures"): "customer",
    ("GET", "/api/customers/me/consents"): "customer",
    ("PUT", "/api/customers/me/consents"): "customer",
    ("GET", "/api/customers/me/export"): "customer",
    ("GET", "/api/customers/me/requests"): "customer",
    ("POST", "/api/customers/me/requests"): "customer",
    ("POST", "/api/customers/me/block"): "customer",
    ("DELETE", "/api/customers/me/block"): "customer",
    ("POST", "/api/customers/policy/versions"): "privacy_officer",
    ("POST", "/api/customers/privacy/customers/{customer_id}/block"): "privacy_officer",
    ("DELETE", "/api/customers/privacy/customers/{customer_id}/block"): "privacy_officer",
    ("GET", "/api/customers/privacy/requests"): "privacy_officer",
    ("GET", "/api/customers/privacy/requests/{request_id}"): "privacy_officer",
    ("POST", "/api/customers/privacy/requests/{request_id}/resolve"): "privacy_officer",
    ("GET", "/api/customers/privacy/breaches"): "privacy_officer",
    ("POST", "/api/customers/privacy/breaches"): "privacy_officer",
    ("GET", "/api/customers/privacy/breaches/{breach_id}"): "privacy_officer",
    ("PATCH", "/api/customers/privacy/breaches/{breach_id}"): "privacy_officer",
    ("GET", "/api/customers/privacy/breaches/{breach_id}/notice"): "privacy_officer",
    ("POST", "/api/customers/privacy/breaches/{breach_id}/notice-sent"): "privacy_officer",
    ("GET", "/api/customers/privacy/legal-disclosures"): "privacy_officer",
    ("POST", "/api/customers/privacy/legal-disclosures"): "privacy_officer",
    ("POST", "/api/customers/support/contact-lookups"): "support",
    ("POST", "/internal/releases"): "internal",
    ("GET", "/internal/audiences"): "internal",
    ("POST", "/internal/contact-batches"): "internal",
    ("POST", "/internal/sms-stops"): "internal",
    ("GET", "/metrics"): "scraper",  # its own port only: the gateway never routes it
    # The API descriptions and their docs page hold no one's data.
    ("GET", "/api/customers/openapi.json"): "public",
    ("GET", "/api/customers/docs"): "public",
    ("GET", "/api/customers/docs/start.js"): "public",
    ("GET", "/api/customers/docs/{asset}"): "public",
    ("GET", "/internal/openapi.json"): "public",  # the service's own port only
}
CUSTOMER_BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("PATCH", "/api/customers/me"): {"first_name": "Аружан"},
    ("POST", "/api/customers/me/password"): {
        "current_password": "correct horse battery",
        "new_password": "another long password",
    },
    ("POST", "/api/customers/me/policy-acceptance"): {"version": "2026-11-01"},
    ("PUT", "/api/customers/me/consents"): {"marketing": {"email": True, "sms": True}},
    ("POST", "/api/customers/me/requests"): {"kind": "objection"},
    # A wrong password (403): erasing A here would end the walk; B must stay untouched.
    ("DELETE", "/api/customers/me"): {"password": "not the password"},
}
B_NAME = "Болат"


def test_every_route_is_in_the_attackers_table(shop_settings_app: set[tuple[str, str]]) -> None:
    assert shop_settings_app == set(ROUTES)


@pytest.fixture
def shop_settings_app(shop: Shop) -> set[tuple[str, str]]:
    routes = set()
    for route in create_app(shop.settings).router.routes():
        info = route.resource.get_info() if route.resource else {}
        path = info.get("path") or info.get("formatter") or info.get("prefix", "")
        if route.method == "HEAD" or path.startswith(("/account", "/healthz", "/readyz")):
            continue
        routes.add((route.method, path))
    return routes


async def two_customers(shop: Shop) -> tuple[UUID, str, UUID, str]:
    a = UUID(await shop.register())
    b = UUID(
        await shop.register(
            email="bolat@example.kz",
            phone="+77019998877",
            first_name=B_NAME,
            last_name="Сериков",
            marketing={"email": True, "sms": True},
        )
    )
    return a, await shop.login("aigerim.test@example.kz"), b, await shop.login("bolat@example.kz")


async def test_customer_a_reaches_only_a_with_b_ids_anywhere(shop: Shop) -> None:
    a, token_a, b, token_b = await two_customers(shop)
    _, b_before = await shop.call("GET", "/api/customers/me", token=token_b)
    for (method, path), who in ROUTES.items():
        if who != "customer":
            continue
        # B's id in the query string and, where there is a body, in the body as well.
        url = f"{path}?customer_id={b}&id={b}&sub={b}"
        body = CUSTOMER_BODIES.get((method, path))
        status, answer = await shop.call(method, url, token=token_a, json=body)
        assert B_NAME not in str(answer) and "bolat" not in str(answer), path
        if status == 200 and isinstance(answer, dict) and "id" in answer:
            assert answer["id"] == str(a)
        if status == 204 and path.endswith("/me/password"):  # it ended A's tokens
            token_a = await shop.login("aigerim.test@example.kz", "another long password")
        if body is not None:
            status, answer = await shop.call(
                method, path, token=token_a, json={**body, "customer_id": str(b)}
            )
            assert status == 422, path  # an id in a body is an unknown field
    _, b_after = await shop.call("GET", "/api/customers/me", token=token_b)
    assert b_after == b_before
    # B's password still works: A's password change touched only A.
    await shop.login("bolat@example.kz")
    status, export = await shop.call("GET", "/api/customers/me/export", token=token_a)
    assert status == 200 and export["profile"]["id"] == str(a) and B_NAME not in str(export)


async def test_internal_release_needs_the_internal_token(shop: Shop) -> None:
    _, token_a, b, _ = await two_customers(shop)
    body = {
        "customer_id": str(b),
        "purpose": "marketing",
        "recipient": "notifications:promo",
        "channel": "email",
    }
    staff = TokenIssuer(shop.settings.private_key_pem()).issue(
        uuid4(), "staff", frozenset({"privacy_officer", "marketer", "support"})
    )
    for headers in (
        {"Authorization": f"Bearer {token_a}"},
        {"Authorization": f"Bearer {staff}"},
        {"X-Internal-Token": "guess"},
        {"X-Internal-Token": ""},
    ):
        status, answer = await shop.call("POST", "/internal/releases", headers=headers, json=body)
        assert status == 403 and B_NAME not in str(answer)


async def test_refresh_cookie_of_a_never_opens_b(shop: Shop) -> None:
    _, _, b, _ = await two_customers(shop)
    # Refresh and logout take only the cookie; an id or a bearer token of B changes nothing.
    async with shop.http.post(
        shop.url + "/api/customers/token/refresh",
        headers={"Cookie": f"refresh_token={b}"},
        json={"customer_id": str(b)},
    ) as response:
        assert response.status == 401


def _claims(subject: UUID, **overrides: Any) -> dict[str, Any]:
    now = int(time.time())
    claims: dict[str, Any] = {
        "iss": ISSUER,
        "aud": AUDIENCE,
        "sub": str(subject),
        "kind": "customer",
        "roles": [],
        "iat": now,
        "exp": now + 600,
    }
    claims.update(overrides)
    return claims


def bad_tokens(shop: Shop, subject: UUID) -> dict[str, str]:
    private_pem = shop.settings.private_key_pem()
    real_key = private_pem
    other_key = generate_signing_key_pem()[0]
    public_pem = shop.settings.public_key_pem()
    good = TokenIssuer(private_pem).issue(subject, "customer")
    head, payload, signature = good.split(".")
    flipped = signature[:-2] + ("AA" if signature[-2:] != "AA" else "BB")
    now = int(time.time())
    return {
        "wrong key": jwt.encode(_claims(subject), other_key, algorithm="EdDSA"),
        "tampered signature": f"{head}.{payload}.{flipped}",
        "expired": jwt.encode(
            _claims(subject, iat=now - 3600, exp=now - 60), real_key, algorithm="EdDSA"
        ),
        "alg none": jwt.encode(_claims(subject), None, algorithm="none"),  # type: ignore[arg-type]
        "HS256 with the public key": _hs256(_claims(subject), public_pem),
        "wrong audience": jwt.encode(_claims(subject, aud="other"), real_key, algorithm="EdDSA"),
        "wrong issuer": jwt.encode(_claims(subject, iss="evil"), real_key, algorithm="EdDSA"),
        "no expiry": jwt.encode(
            {k: v for k, v in _claims(subject).items() if k != "exp"}, real_key, algorithm="EdDSA"
        ),
        "not a jwt": "not.a.token",
    }


def _hs256(claims: dict[str, Any], secret: str) -> str:
    """An HMAC token keyed with the public key (algorithm confusion), built by hand."""
    import base64
    import hashlib
    import hmac
    import json

    def b64(data: bytes) -> str:
        return base64.urlsafe_b64encode(data).rstrip(b"=").decode()

    signing_input = b64(b'{"alg":"HS256","typ":"JWT"}') + "." + b64(json.dumps(claims).encode())
    mac = hmac.new(secret.encode(), signing_input.encode(), hashlib.sha256).digest()
    return f"{signing_input}.{b64(mac)}"


async def test_bad_tokens_are_refused_everywhere(shop: Shop) -> None:
    a = UUID(await shop.register())
    for name, token in bad_tokens(shop, a).items():
        for (method, path), who in ROUTES.items():
            if who not in ("customer", "privacy_officer", "support"):
                continue
            url = path
            for name_in_path in ("{breach_id}", "{request_id}", "{customer_id}"):
                url = url.replace(name_in_path, str(uuid4()))
            status, answer = await shop.call(method, url, token=token, json={})
            assert status == 401, (name, path, status)
            assert "Айгерим" not in str(answer)


async def test_forged_staff_roles_are_refused(shop: Shop) -> None:
    a = UUID(await shop.register())
    path = "/api/customers/policy/versions"
    body = {"version": "x1", "effective_date": "2030-01-01", "text_ru": "т", "text_kk": "т"}
    other_key = generate_signing_key_pem()[0]
    forged = TokenIssuer(other_key).issue(uuid4(), "staff", frozenset({"privacy_officer"}))
    status, _ = await shop.call("POST", path, token=forged, json=body)
    assert status == 401
    # Even signed with the real key, a customer token claiming roles is not a staff token.
    real = shop.settings.private_key_pem()
    mixed = jwt.encode(_claims(a, roles=["privacy_officer"]), real, algorithm="EdDSA")
    status, _ = await shop.call("POST", path, token=mixed, json=body)
    assert status == 401
    unknown_role = jwt.encode(_claims(a, kind="staff", roles=["root"]), real, algorithm="EdDSA")
    status, _ = await shop.call("POST", path, token=unknown_role, json=body)
    assert status == 401
    customer = await shop.login("aigerim.test@example.kz")
    status, _ = await shop.call("POST", path, token=customer, json=body)
    assert status == 403


async def test_staff_tokens_cannot_use_customer_routes(shop: Shop) -> None:
    await shop.register()
    staff = TokenIssuer(shop.settings.private_key_pem()).issue(
        uuid4(), "staff", frozenset({"privacy_officer", "support", "marketer", "analyst"})
    )
    for (method, path), who in ROUTES.items():
        if who == "customer":
            body = CUSTOMER_BODIES.get((method, path))
            status, _ = await shop.call(method, path, token=staff, json=body)
            assert status == 403, path
