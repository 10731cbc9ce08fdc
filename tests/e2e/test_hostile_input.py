"""The hostile battery, through the real gateway: deep, invalid-UTF-8, UTF-16, duplicate-key,
lone-surrogate, NaN, huge-number, control-character and bad-header requests on every public
endpoint of the contract. Each answer is a 4xx problem+json that quotes nothing sent, and no
service logs a traceback or an unhandled error for any of them."""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Callable
from typing import Any

import aiohttp
import pytest
from yarl import URL

from shared.signing import signed_headers
from tests.e2e.stack import SERVICES, Stack, service_app
from tests.rawhttp import MARK, hostile_requests, send_raw

pytestmark = pytest.mark.asyncio(loop_scope="session")

PROBLEM = "application/problem+json"
PHONE = "+77017654399"
ADDRESS = {"city": "Астана", "street": MARK, "house": "1", "comment": MARK}
REGISTER = {
    "last_name": "Ахметова",
    "first_name": MARK,
    "phone": PHONE,
    "email": f"{MARK}@example.kz",
    "password": f"{MARK} password",
    "delivery_address": ADDRESS,
    "marketing": {"email": False, "sms": False},
}
PRODUCT = {
    "sku": "SKU-1",
    "name": MARK,
    "description": MARK,
    "category": "misc",
    "price": {"amount": 100, "currency": "KZT"},
    "weight_g": 1,
    "stock": 1,
}
SOME_ID = str(uuid.uuid4())
PROMOTION = {
    "name": MARK,
    "discount": {"amount": 100, "currency": "KZT"},
    "product_ids": [SOME_ID],
    "starts_at": "2027-01-01T00:00:00+05:00",
    "ends_at": "2027-01-08T00:00:00+05:00",
}
PAYMENT = {"event_id": SOME_ID, "payment_id": SOME_ID, "status": "succeeded", "amount": 100}
POLICY = {"version": "v9", "effective_date": "2027-01-01", "text_ru": MARK, "text_kk": MARK}

# (method, route, body) of every public route that reads a JSON body; the routes that read
# none are in BODYLESS. test_the_battery_covers_every_public_route holds the two lists to the
# services' route tables.
ENDPOINTS: list[tuple[str, str, dict[str, Any]]] = [
    ("POST", "/api/catalog/products", PRODUCT),
    ("PATCH", "/api/catalog/products/{id}", {"name": MARK, "stock": 2}),
    ("POST", "/api/catalog/categories", {"slug": "misc-2", "name": MARK}),
    ("POST", "/api/catalog/promotions", PROMOTION),
    ("PATCH", "/api/catalog/promotions/{id}", {"name": MARK, "ends_at": "2027-02-01T00:00:00Z"}),
    ("POST", "/api/stats/hits", {"path": f"/{MARK}", "referrer": f"https://{MARK}.kz/"}),
    ("POST", "/api/customers/register", {**REGISTER, "accept_policy_version": "2026-11-01"}),
    ("POST", "/api/customers/login", {"login": PHONE, "password": f"{MARK} password"}),
    ("POST", "/api/customers/staff/login", {"email": f"{MARK}@shop.kz", "password": MARK}),
    ("POST", "/api/customers/policy/versions", POLICY),
    ("POST", "/api/customers/me/password", {"current_password": MARK, "new_password": MARK * 2}),
    ("POST", "/api/customers/me/policy-acceptance", {"version": MARK}),
    ("PATCH", "/api/customers/me", {"first_name": MARK, "delivery_address": ADDRESS}),
    ("PUT", "/api/customers/me/consents", {"marketing": {"email": False, "sms": False}}),
    ("POST", "/api/customers/me/requests", {"kind": "objection", "detail": MARK}),
    ("DELETE", "/api/customers/me", {"password": MARK}),  # a wrong one: nothing is erased
    ("POST", "/api/customers/support/contact-lookups", {"order_id": SOME_ID, "reason": MARK}),
    (
        "POST",
        "/api/customers/privacy/requests/{request_id}/resolve",
        {"outcome": "refused", "answer": MARK, "reason": "unfounded"},
    ),
    (
        "POST",
        "/api/customers/privacy/breaches",
        {"description": MARK, "detected_at": "2026-03-20T10:00:00+05:00", "measures": MARK},
    ),
    ("PATCH", "/api/customers/privacy/breaches/{breach_id}", {"measures": MARK}),
    (
        "POST",
        "/api/customers/privacy/legal-disclosures",
        {"customer_id": SOME_ID, "authority": MARK, "basis": MARK, "fields": ["phone"]},
    ),
    (
        "POST",
        "/api/customers/privacy/customers/{customer_id}/block",
        {"reason": "subject_request", "note": MARK},
    ),
    (
        "DELETE",
        "/api/customers/privacy/customers/{customer_id}/block",
        {"reason": "checked", "note": MARK},
    ),
    (
        "POST",
        "/api/notifications/campaigns",
        {"promotion_id": SOME_ID, "channel": "email", "scheduled_at": "2027-01-01T10:00:00Z"},
    ),
    ("POST", "/api/orders/cart/items", {"product_id": SOME_ID, "quantity": 1}),
    (
        "POST",
        "/api/orders/checkout",
        {"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}},
    ),
    ("POST", "/api/payments/{bank}/callbacks", {**PAYMENT, "currency": "KZT"}),
    (
        "POST",
        "/api/fulfilment/{courier}/callbacks",
        {"event_id": SOME_ID, "dispatch_id": SOME_ID, "status": "delivered"},
    ),
    # A form body (RFC 8058); a JSON one is refused like any other wrong body.
    ("POST", "/api/notifications/unsubscribe", {"List-Unsubscribe": "One-Click"}),
    (
        "POST",
        "/api/notifications/sms/reports",
        {
            "event_id": SOME_ID,
            "message_id": SOME_ID,
            "provider_message_id": MARK,
            "status": "failed",
            "permanent": True,
            "reason": MARK,
            "at": "2026-06-01T10:00:00Z",
        },
    ),
    (
        "POST",
        "/api/notifications/sms/inbound",
        {
            "event_id": SOME_ID,
            "from": PHONE,
            "to": MARK,
            "text": MARK,
            "received_at": "2026-06-01T10:00:00Z",
        },
    ),
]
BODYLESS = {
    ("POST", "/api/customers/token/refresh"),  # the refresh cookie only
    ("POST", "/api/customers/logout"),  # the refresh cookie only
    ("POST", "/api/orders/{order_id}/cancel"),
    ("POST", "/api/customers/privacy/breaches/{breach_id}/notice-sent"),
    ("POST", "/api/customers/me/block"),  # the customer's own block: nothing to say
    ("DELETE", "/api/customers/me/block"),
    ("DELETE", "/api/orders/cart/items/{product_id}"),
    ("DELETE", "/api/catalog/products/{id}"),  # archives the product
    ("POST", "/api/notifications/campaigns/{campaign_id}/pause"),
    ("POST", "/api/notifications/campaigns/{campaign_id}/resume"),
}


def concrete(route: str) -> str:
    return route.format(
        id=SOME_ID,
        request_id=SOME_ID,
        breach_id=SOME_ID,
        customer_id=SOME_ID,
        campaign_id=SOME_ID,
        bank="sandbox",
        courier="sandbox",
    )


async def test_the_battery_covers_every_public_route(shop: Stack) -> None:
    """A public route that may take a body is either in ENDPOINTS or known to read none."""
    assert shop.shop is not None
    routed = {
        (route.method, route.resource.canonical)
        for name in SERVICES
        for route in service_app(shop.shop, name).router.routes()
        if route.resource is not None
        and route.method in {"POST", "PUT", "PATCH", "DELETE"}
        and route.resource.canonical.startswith("/api/")
    }
    covered = {(method, route) for method, route, _ in ENDPOINTS} | BODYLESS
    assert routed - covered == set()
    assert covered - routed == set()  # nothing listed that no longer exists


def _strings(value: Any, change: Callable[[str], str]) -> Any:
    """``value`` with every string in it (keys kept) changed."""
    if isinstance(value, str):
        return change(value)
    if isinstance(value, dict):
        return {key: _strings(item, change) for key, item in value.items()}
    if isinstance(value, list):
        return [_strings(item, change) for item in value]
    return value


def _first_as(body: dict[str, Any], raw: bytes) -> bytes:
    """``body`` as JSON with its first member's value written as the raw JSON ``raw``."""
    first, *rest = body.items()
    tail = json.dumps(dict(rest)).encode()[1:] if rest else b"}"
    return b'{"' + first[0].encode() + b'": ' + raw + (b", " + tail if rest else tail)


def hostile_bodies(body: dict[str, Any]) -> dict[str, bytes]:
    text = json.dumps(body, ensure_ascii=False)
    first_key = next(iter(body))
    bodies = {
        "nested 1000 deep": _first_as(body, b"[" * 1000 + b"]" * 1000),
        "nested 40 deep": _first_as(body, b"[" * 40 + b"1" + b"]" * 40),
        "invalid UTF-8": _first_as(body, b'"' + MARK.encode() + b'\xff\xfe"'),
        "UTF-16": text.encode("utf-16"),
        "UTF-16 without BOM": text.encode("utf-16-le"),
        "UTF-8 BOM": b"\xef\xbb\xbf" + text.encode(),
        # The first value is wrong, the last right: taking the last would accept the body.
        "duplicate key": ("{" + json.dumps({first_key: MARK})[1:-1] + ", " + text[1:]).encode(),
        "lone surrogates": json.dumps(_strings(body, lambda s: s + "\ud800")).encode(),
        "NaN": _first_as(body, b"NaN"),
        "Infinity": _first_as(body, b"-Infinity"),
        "float overflow": _first_as(body, b"1e999"),
        "huge integer": _first_as(body, b"9" * 30),
        "integer past Python's digit limit": _first_as(body, b"9" * 5000),
        "control characters": json.dumps(
            _strings(body, lambda s: s + "\x00\x1b[2J\u202e")
        ).encode(),
        "only invisible characters": json.dumps(_strings(body, lambda _: "\u200b\u2060")).encode(),
    }
    # A body without strings has nothing for the string variants to change.
    return {name: data for name, data in bodies.items() if data != json.dumps(body).encode()}


@pytest.fixture(scope="module")
async def customer(shop: Stack) -> dict[str, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{shop.gateway_url}/api/customers/policy") as r:
            version = (await r.json())["version"]
        body = {**REGISTER, "accept_policy_version": version, "first_name": "Айгуль"}
        async with session.post(f"{shop.gateway_url}/api/customers/register", json=body) as r:
            assert r.status == 201, await r.text()
        login = {"login": PHONE, "password": REGISTER["password"]}
        async with session.post(f"{shop.gateway_url}/api/customers/login", json=login) as r:
            token = (await r.json())["access_token"]
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}


STAFF_ROLES = {
    "/api/catalog/": "catalog_manager",
    "/api/customers/policy/": "privacy_officer",
    "/api/customers/privacy/": "privacy_officer",
    "/api/customers/support/": "support",
    "/api/notifications/campaigns": "marketer",
}


def _credentials(shop: Stack, path: str, customer: dict[str, str]) -> dict[str, str]:
    """A staff token with the route's role, else the customer's: the body is always read."""
    for prefix, role in STAFF_ROLES.items():
        if path.startswith(prefix):
            token = shop.tokens.issue(uuid.uuid4(), "staff", frozenset({role}))
            return {"Authorization": f"Bearer {token}"}
    return customer


def _signed(shop: Stack, path: str, data: bytes) -> dict[str, str]:
    if path.startswith("/api/payments/"):
        return signed_headers(shop.bank.secret, data)
    if path.startswith("/api/fulfilment/"):
        return signed_headers(shop.courier.secret, data)
    if path.startswith("/api/notifications/sms/"):
        return signed_headers(shop.sms.secret, data)
    return {}


def assert_refused(status: int, content_type: str, text: str, what: str) -> None:
    assert 400 <= status < 500, (what, status, text)
    assert content_type == PROBLEM, (what, content_type, text)
    problem = json.loads(text)
    assert problem["status"] == status and problem["title"], (what, text)
    assert MARK not in text and "aigul" not in text.lower(), (what, text)


def assert_quiet(logs: io.StringIO) -> None:
    logged = logs.getvalue()
    for needle in ("Traceback", "unhandled error", "Error handling request", MARK):
        assert needle not in logged, [line for line in logged.splitlines() if needle in line][:3]


@pytest.mark.parametrize(("method", "route", "body"), ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
async def test_every_public_endpoint_refuses_hostile_json_with_a_4xx_problem(
    shop: Stack, shop_logs: io.StringIO, customer, method, route, body
):
    path = concrete(route)
    async with aiohttp.ClientSession() as session:
        for name, data in hostile_bodies(body).items():
            headers = {
                **_credentials(shop, path, customer),
                "Content-Type": "application/json",
                **_signed(shop, path, data),
            }
            async with session.request(
                method, shop.gateway_url + path, data=data, headers=headers
            ) as response:
                text = await response.text()
                assert_refused(response.status, response.content_type, text, name)
    assert_quiet(shop_logs)


QUERIES = [
    "/api/catalog/products?cursor=%ff%fe&limit=10",
    "/api/catalog/products?limit=" + "9" * 5000,
    "/api/catalog/products?q=%00%1b%E2%80%AE&category=%ED%A0%80",
    f"/api/catalog/products/{MARK}@example.kz",
    "/api/catalog/products/%ED%A0%80",
    "/api/catalog/promotions?cursor=%ff%fe&limit=1e999&status=%00",
    f"/api/catalog/promotions/{MARK}@example.kz",
    "/api/catalog/products?sort=%00&min_price=-1&max_price=1e999&in_stock=maybe&lang=xx",
    "/api/catalog/products?min_price=9&max_price=1&lang=%ED%A0%80",
    "/api/catalog/products?sort=price_asc&cursor=WyJuYW1lIiwiYSIsIngiXQ",
    f"/api/catalog/products/{SOME_ID}?lang={MARK}",
    f"/api/catalog/categories?lang={MARK}",
    "/api/stats/report?from=9999999999-01-01",
    "/api/stats/report?from=2026-02-02&to=2026-02-01",
    f"/api/stats/report/chart?dimension={MARK}%40example.kz&from=%00",
    f"/api/stats/export?to={MARK}%40example.kz",
    "/api/orders?cursor=%ff&limit=1e999",
    f"/api/orders/{MARK}@example.kz",
    f"/api/orders/%2B77017654399/{MARK}",
    f"/api/customers/{MARK}@example.kz",
    "/api/notifications/unsubscribe?token=%ff%fe%ED%A0%80",
    f"/api/notifications/unsubscribe?token={MARK}@example.kz",
    f"/api/notifications/unsubscribe?token={'9' * 5000}",
    f"/api/notifications/campaigns/{MARK}@example.kz",
    "/api/notifications/campaigns?limit=%ff&before=" + "9" * 5000,
    f"/api/nothing/{MARK}@example.kz",
]


async def test_hostile_paths_and_queries_are_4xx_problems_that_echo_nothing(
    shop: Stack, shop_logs: io.StringIO, customer
):
    async with aiohttp.ClientSession() as session:
        for target in QUERIES:
            url = URL(shop.gateway_url + target, encoded=True)  # sent exactly as written
            async with session.get(url, headers=customer, allow_redirects=False) as response:
                text = await response.text()
                assert_refused(response.status, response.content_type, text, target)
                assert "@" not in text and "77017654399" not in text, (target, text)
    assert_quiet(shop_logs)


PROBED = {
    "/api/customers/login": "customers",
    "/api/customers/token/refresh": "customers",
    "/api/payments/sandbox/callbacks": "orders",
    "/api/orders/checkout": "orders",
    "/api/fulfilment/sandbox/callbacks": "orders",
    "/api/stats/hits": "catalog",
    "/api/notifications/sms/inbound": "notifications",
    "/api/notifications/unsubscribe": "notifications",
}


@pytest.mark.parametrize(("path", "service"), PROBED.items())
async def test_malformed_http_is_a_4xx_problem_at_the_gateway_and_at_each_service(
    shop: Stack, shop_logs: io.StringIO, path: str, service: str
):
    for where, base in (("gateway", shop.gateway_url), (service, shop.service_urls[service])):
        for name, data in hostile_requests(path).items():
            answer = await send_raw(base, data)
            text = answer.body.decode("utf-8", "replace")
            assert_refused(answer.status, answer.content_type, text, f"{where}: {name}")
            assert not re.search(r"brotli|aiohttp|nginx", text, re.IGNORECASE), (name, text)
    assert_quiet(shop_logs)
