"""Releases to notifications, the disclosure register and the export."""

from __future__ import annotations

from collections.abc import AsyncIterator
from uuid import UUID, uuid4

import pytest
from aiohttp import web

from shared.auth import INTERNAL_TOKEN_HEADER
from shared.service import running_app
from tests.customers.conftest import INTERNAL_TOKEN, MakeShop, Shop

INTERNAL = {INTERNAL_TOKEN_HEADER: INTERNAL_TOKEN}


def release_body(customer_id: str, **overrides: object) -> dict[str, object]:
    body: dict[str, object] = {
        "customer_id": customer_id,
        "purpose": "service_communication",
        "recipient": "notifications",
        "channel": "email",
        "order_ref": "KZ-1001",
    }
    body.update(overrides)
    return body


async def test_internal_release_needs_the_token(shop: Shop) -> None:
    customer_id = await shop.register()
    for headers in ({}, {INTERNAL_TOKEN_HEADER: "wrong"}):
        status, body = await shop.call(
            "POST", "/internal/releases", json=release_body(customer_id), headers=headers
        )
        assert status == 403
        assert "example.kz" not in str(body)


async def test_email_release_is_minimal_and_registered(shop: Shop) -> None:
    customer_id = await shop.register()
    status, body = await shop.call(
        "POST", "/internal/releases", json=release_body(customer_id), headers=INTERNAL
    )
    assert status == 200, body
    assert body["locale"] == "kk"
    assert body["fields"] == {"email": "aigerim.test@example.kz", "first_name": "Айгерим"}
    UUID(body["release_id"])
    status, sms = await shop.call(
        "POST",
        "/internal/releases",
        json=release_body(customer_id, channel="sms"),
        headers=INTERNAL,
    )
    assert status == 200 and sms["fields"] == {"phone": "+77012345678", "first_name": "Айгерим"}

    token = await shop.login("aigerim.test@example.kz")
    status, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    assert status == 200
    items = register["items"]
    assert len(items) == 2
    by_id = {item["release_id"]: item for item in items}
    first = by_id[body["release_id"]]
    assert first["recipient"] == "notifications" and first["purpose"] == "service_communication"
    assert first["fields"] == ["email", "first_name"] and first["order_ref"] == "KZ-1001"
    assert first["at"]


@pytest.mark.parametrize(
    "overrides,status",
    [
        ({"purpose": "delivery"}, 403),  # not in the release table for the email channel
        ({"purpose": "curiosity"}, 422),  # not a purpose at all
        ({"recipient": "courier:sandbox"}, 403),
        ({"channel": "fax"}, 422),
        ({"extra": "x"}, 422),
        ({"purpose": "marketing"}, 403),  # no live marketing consent
    ],
)
async def test_release_refusals(shop: Shop, overrides: dict[str, object], status: int) -> None:
    customer_id = await shop.register()
    got, body = await shop.call(
        "POST", "/internal/releases", json=release_body(customer_id, **overrides), headers=INTERNAL
    )
    assert got == status, body
    token = await shop.login("aigerim.test@example.kz")
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    assert register["items"] == []


async def test_marketing_follows_live_consent(shop: Shop) -> None:
    customer_id = await shop.register(marketing={"email": True, "sms": False})
    body = release_body(customer_id, purpose="marketing", order_ref=None)
    status, _ = await shop.call("POST", "/internal/releases", json=body, headers=INTERNAL)
    assert status == 200
    sms = release_body(customer_id, purpose="marketing", channel="sms")
    status, _ = await shop.call("POST", "/internal/releases", json=sms, headers=INTERNAL)
    assert status == 403
    token = await shop.login("aigerim.test@example.kz")
    await shop.call(
        "PUT",
        "/api/customers/me/consents",
        token=token,
        json={"marketing": {"email": False, "sms": False}},
    )
    status, _ = await shop.call("POST", "/internal/releases", json=body, headers=INTERNAL)
    assert status == 403


async def test_unknown_and_blocked_customers(shop: Shop) -> None:
    status, _ = await shop.call(
        "POST", "/internal/releases", json=release_body(str(uuid4())), headers=INTERNAL
    )
    assert status == 404
    customer_id = await shop.register()
    await shop.block(customer_id)
    status, _ = await shop.call(
        "POST", "/internal/releases", json=release_body(customer_id), headers=INTERNAL
    )
    assert status == 409


@pytest.fixture
async def orders_stub() -> AsyncIterator[tuple[str, list[str]]]:
    """A stand-in for the orders service's internal export route (its contract only)."""
    seen: list[str] = []

    async def export(request: web.Request) -> web.Response:
        if request.headers.get(INTERNAL_TOKEN_HEADER) != INTERNAL_TOKEN:
            return web.json_response({"title": "Forbidden"}, status=403)
        seen.append(request.match_info["customer_id"])
        return web.json_response({"orders": [{"order_ref": "KZ-1001", "status": "delivered"}]})

    app = web.Application()
    app.router.add_get("/internal/customers/{customer_id}/export", export)
    async with running_app(app) as url:
        yield url, seen


async def test_export(shop_factory: MakeShop, orders_stub: tuple[str, list[str]]) -> None:
    orders_url, seen = orders_stub
    shop = await shop_factory(orders_url=orders_url)
    customer_id = await shop.register(marketing={"email": True, "sms": False})
    await shop.call("POST", "/internal/releases", json=release_body(customer_id), headers=INTERNAL)
    token = await shop.login("aigerim.test@example.kz")
    status, export = await shop.call("GET", "/api/customers/me/export", token=token)
    assert status == 200, export
    assert set(export) >= {"profile", "consents", "disclosures", "orders", "notifications"}
    assert export["profile"]["email"] == "aigerim.test@example.kz"
    assert [c["kind"] for c in export["consents"]] == [
        "pd_processing",
        "marketing_email",
        "marketing_sms",
    ]
    assert export["consents"][0]["record"]["operator"]["bin"] == "240440017017"
    assert len(export["disclosures"]) == 1
    assert export["orders"] == [{"order_ref": "KZ-1001", "status": "delivered"}]
    assert seen == [customer_id]
    assert export["notifications"] == []
    assert "notifications" in export["notes"] and export["complete"] is False


async def test_export_with_a_service_down(shop_factory: MakeShop) -> None:
    shop = await shop_factory(orders_url="http://127.0.0.1:9", notifications_url="")
    await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    status, export = await shop.call("GET", "/api/customers/me/export", token=token)
    assert status == 200
    assert export["orders"] == [] and "did not answer" in export["notes"]["orders"]
