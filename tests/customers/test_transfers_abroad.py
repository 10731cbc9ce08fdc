"""Transfers abroad (Law 94-V art. 16): a recipient outside Kazakhstan gets a release only
from a customer who consented to transfers abroad, a separate, explicit, append-only choice."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import asyncpg
import pytest

from services.customers.keys import ACCOUNTS
from services.customers.personal_data import ContactRelease
from tests.customers.conftest import INTERNAL_TOKEN, MakeShop, Shop
from tests.customers.test_dispatch import publish, request_for, wait_for_outbox

INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}
LOGIN = "aigerim.test@example.kz"


async def register_rows(shop: Shop, customer_id: str) -> list[dict[str, Any]]:
    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT recipient, country, legal_basis FROM disclosures WHERE customer_id = $1",
            UUID(customer_id),
        )
    finally:
        await conn.close()
    return [dict(r) for r in rows]


async def consent_to_abroad(shop: Shop, token: str, granted: bool) -> dict[str, Any]:
    status, body = await shop.call(
        "PUT", "/api/customers/me/consents", token=token, json={"cross_border_transfer": granted}
    )
    assert status == 200, body
    return dict(body)


async def test_a_courier_abroad_gets_a_release_only_with_the_consent(
    shop_factory: MakeShop,
) -> None:
    shop = await shop_factory(courier_countries={"sandbox": "de"})
    customer_id = await shop.register()

    first = request_for(customer_id)
    await publish(shop.settings.amqp_url, first)
    refused = await wait_for_outbox(shop, "customers.dispatch.refused")
    assert json.loads(refused["body"]) == {
        "dispatch_id": str(first.dispatch_id),
        "order_id": str(first.order_id),
        "reason": "transfer_abroad_not_allowed",
    }
    assert await register_rows(shop, customer_id) == []

    token = await shop.login(LOGIN)
    status, consents = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert consents["cross_border_transfer"] is False  # unticked unless said otherwise
    assert consents["recipients_abroad"] == [{"recipient": "courier:sandbox", "country": "DE"}]
    consents = await consent_to_abroad(shop, token, True)
    assert consents["cross_border_transfer"] is True

    second = request_for(customer_id)
    await publish(shop.settings.amqp_url, second)
    released = await wait_for_outbox(shop, "customers.dispatch.released")
    assert json.loads(released["body"])["dispatch_id"] == str(second.dispatch_id)
    (row,) = await register_rows(shop, customer_id)
    assert row["recipient"] == "courier:sandbox" and row["country"] == "DE"
    assert "transfer abroad (DE)" in row["legal_basis"] and "art. 16" in row["legal_basis"]
    status, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    assert status == 200 and register["items"][0]["country"] == "DE"


async def test_the_consent_is_separate_explicit_and_append_only(shop: Shop) -> None:
    customer_id = await shop.register()
    token = await shop.login(LOGIN)
    for sent in ({"cross_border_transfer": "yes"}, {"cross_border_transfer": 1}):
        status, problem = await shop.call(
            "PUT", "/api/customers/me/consents", token=token, json=sent
        )
        assert status == 422, problem
    await consent_to_abroad(shop, token, True)
    await consent_to_abroad(shop, token, True)  # unchanged: no second row
    body = await consent_to_abroad(shop, token, False)
    assert body["cross_border_transfer"] is False
    assert body["marketing"] == {"email": False, "sms": False}  # untouched
    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT kind, granted, record FROM consents WHERE customer_id = $1 ORDER BY id",
            UUID(customer_id),
        )
        with pytest.raises(asyncpg.RaiseError):
            await conn.execute("DELETE FROM consents WHERE kind = 'cross_border'")
    finally:
        await conn.close()
    abroad = [(r["kind"], r["granted"]) for r in rows if r["kind"] == "cross_border"]
    assert abroad == [("cross_border", True), ("cross_border", False)]
    record = json.loads(next(r["record"] for r in rows if r["kind"] == "cross_border"))
    assert record["purpose"] == "cross_border_transfer" and record["recipients_abroad"] == []
    assert record["subject_id"] == customer_id
    # Registration can give it too, explicitly; leaving it out records no consent.
    other = await shop.register(
        email="second@example.kz", phone="+7 701 000 11 22", cross_border_transfer=True
    )
    other_token = await shop.login("second@example.kz")
    _, consents = await shop.call("GET", "/api/customers/me/consents", token=other_token)
    assert consents["cross_border_transfer"] is True and other


async def campaign_batch(shop: Shop, customer_id: str) -> list[ContactRelease]:
    """Who a marketing mail campaign through notifications may reach of this customer."""
    conn = await shop.db()
    try:
        async with conn.transaction():
            return await shop.app[ACCOUNTS].gate.release_contacts(
                conn, [UUID(customer_id)], "email", "marketing", "notifications"
            )
    finally:
        await conn.close()


async def test_a_mail_provider_abroad_needs_the_consent(shop_factory: MakeShop) -> None:
    shop = await shop_factory(mail_provider_country="NL")
    customer_id = await shop.register(marketing={"email": True, "sms": False})
    body = {
        "customer_id": customer_id,
        "purpose": "service_communication",
        "recipient": "notifications",
        "channel": "email",
    }
    status, problem = await shop.call("POST", "/internal/releases", json=body, headers=INTERNAL)
    assert status == 403 and problem["type"].endswith("transfer-abroad-not-allowed")
    assert problem["country"] == "NL"
    batch = await campaign_batch(shop, customer_id)
    assert batch == []  # a campaign through a provider abroad skips them as well

    token = await shop.login(LOGIN)
    await consent_to_abroad(shop, token, True)
    status, release = await shop.call("POST", "/internal/releases", json=body, headers=INTERNAL)
    assert status == 200 and release["fields"]["email"] == "aigerim.test@example.kz"
    batch = await campaign_batch(shop, customer_id)
    assert [r.customer_id for r in batch] == [UUID(customer_id)]
    countries = {r["country"] for r in await register_rows(shop, customer_id)}
    assert countries == {"NL"}
