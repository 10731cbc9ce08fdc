"""Bad input on every endpoint of the flow, through the gateway: a 4xx problem, never a 5xx."""

from __future__ import annotations

import json
import uuid

import aiohttp
import pytest

from shared.signing import signed_headers
from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

REGISTER = {
    "last_name": "Ахметов",
    "first_name": "Ерлан",
    "phone": "+77017654321",
    "email": "erlan.badinput@example.kz",
    "password": "long enough password",
    "delivery_address": {"city": "Астана", "street": "Кенесары", "house": "1"},
    "marketing": {"email": False, "sms": False},
}


@pytest.fixture(scope="module")
async def signed_in(shop: Stack) -> dict[str, str]:
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{shop.gateway_url}/api/customers/policy") as r:
            version = (await r.json())["version"]
        body = {**REGISTER, "accept_policy_version": version}
        async with session.post(f"{shop.gateway_url}/api/customers/register", json=body) as r:
            assert r.status == 201
        login = {"login": REGISTER["phone"], "password": REGISTER["password"]}
        async with session.post(f"{shop.gateway_url}/api/customers/login", json=login) as r:
            token = (await r.json())["access_token"]
    return {"Authorization": f"Bearer {token}", "Idempotency-Key": str(uuid.uuid4())}


ENDPOINTS = [
    ("POST", "/api/customers/register", {**REGISTER, "accept_policy_version": "x"}),
    ("POST", "/api/customers/login", {"login": "someone", "password": "x"}),
    ("PATCH", "/api/customers/me", {"first_name": "Ерлан"}),
    ("PUT", "/api/customers/me/consents", {"email": False, "sms": False}),
    ("POST", "/api/orders/cart/items", {"product_id": str(uuid.uuid4()), "quantity": 1}),
    (
        "POST",
        "/api/orders/checkout",
        {"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}},
    ),
]


def wrong_types(body: dict) -> dict:
    """The same body with every top-level value replaced by a value of the wrong type."""
    return {key: ([1, 2] if isinstance(value, str) else "text") for key, value in body.items()}


def variants(body: dict) -> list[tuple[str, bytes, dict[str, str]]]:
    json_headers = {"Content-Type": "application/json"}
    return [
        ("malformed JSON", b'{"last_name": "x",', json_headers),
        ("wrong types", json.dumps(wrong_types(body)).encode(), json_headers),
        (
            "unknown field",
            json.dumps({**body, "iin": "900101300123", "birth_date": "1990-01-01"}).encode(),
            json_headers,
        ),
        ("not an object", b"[1, 2, 3]", json_headers),
        ("huge body", json.dumps({**body, "pad": "x" * 200_000}).encode(), json_headers),
    ]


@pytest.mark.parametrize(("method", "path", "body"), ENDPOINTS, ids=[e[1] for e in ENDPOINTS])
async def test_every_flow_endpoint_answers_bad_input_with_a_4xx_problem(
    shop: Stack, signed_in, method, path, body
):
    async with aiohttp.ClientSession() as session:
        for name, data, headers in variants(body):
            async with session.request(
                method, shop.gateway_url + path, data=data, headers={**signed_in, **headers}
            ) as response:
                text = await response.text()
                assert 400 <= response.status < 500, (name, response.status, text)
                assert response.content_type == "application/problem+json", (name, text)
                problem = json.loads(text)
                assert problem["status"] == response.status and problem["title"], name
                assert "900101300123" not in text, "a refused value is echoed back"


async def test_courier_callback_refuses_bad_and_forged_input(shop: Stack):
    url = f"{shop.gateway_url}/api/fulfilment/sandbox/callbacks"
    body = json.dumps(
        {"event_id": str(uuid.uuid4()), "dispatch_id": str(uuid.uuid4()), "status": "delivered"}
    ).encode()
    async with aiohttp.ClientSession() as session:
        cases = [
            ("unsigned", body, {}),
            ("forged", body, signed_headers("not-the-secret", body)),
            ("malformed", b"{oops", signed_headers("not-the-secret", b"{oops")),
            ("huge", b"x" * 200_000, {}),
        ]
        for name, data, headers in cases:
            async with session.post(
                url, data=data, headers={"Content-Type": "application/json", **headers}
            ) as response:
                assert 400 <= response.status < 500, name
                assert response.content_type == "application/problem+json", name


async def test_unknown_routes_and_internal_paths_are_404_problems(shop: Stack):
    async with aiohttp.ClientSession() as session:
        for path in ("/api/nothing", "/internal/releases", "/api/orders/not-a-uuid"):
            async with session.get(shop.gateway_url + path) as response:
                assert 400 <= response.status < 500, path
                assert response.content_type == "application/problem+json", path
