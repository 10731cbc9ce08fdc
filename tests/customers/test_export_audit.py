"""The export's audit trail names who used the customer's data by kind and role: a support
agent's lookup of their contact shows as the shop's support staff, never the agent's id (the
audit log itself keeps the id for the privacy officer)."""

from __future__ import annotations

from uuid import UUID

from tests.customers.conftest import Shop
from tests.customers.test_support import looked_up, support_shop
from tests.customers.test_web import Browser
from tests.orders.conftest import Orders, catalog, orders, orders_overrides

__all__ = ["catalog", "orders", "orders_overrides", "support_shop"]  # fixtures used here


async def test_a_support_lookup_shows_as_support_staff_not_as_the_agent(
    support_shop: Shop, orders: Orders
) -> None:
    shop = support_shop
    customer_id, order, agent, _ = await looked_up(shop, orders)

    login = await shop.login("aigerim.test@example.kz")
    status, export = await shop.call("GET", "/api/customers/me/export", token=login)
    assert status == 200, export
    support = [e for e in export["audit"] if e["purpose"] == "support"]
    assert support == [
        {
            "at": support[0]["at"],
            "actor": {"kind": "staff", "roles": ["support"]},
            "action": "read",
            "purpose": "support",
            "fields": ["last_name", "first_name", "phone"],
        }
    ]
    assert str(agent.id) not in str(export) and "agent@shop.kz" not in str(export)
    assert {e["actor"]["kind"] for e in export["audit"]} == {"you", "staff"}
    assert [o["id"] for o in export["orders"]] == [order["id"]]  # the real orders service
    assert UUID(export["profile"]["id"]) == UUID(customer_id)

    browser = Browser(shop.url)
    try:
        form = await browser.get("/account/signin")
        signed_in = await browser.post(
            "/account/signin",
            {
                "csrf_token": form.csrf(),
                "login": "aigerim.test@example.kz",
                "password": "correct horse battery",
            },
        )
        assert signed_in.status == 303, signed_in.text
        page = await browser.get("/account/export")
        assert page.status == 200
        for text in ("сотрудник магазина (служба поддержки)", "поддержка", order["order_ref"]):
            assert text in page.text, text
        assert str(agent.id) not in page.text
    finally:
        await browser.close()


async def test_the_export_opens_each_requests_own_words(shop: Shop) -> None:
    """The requests section carries every request with the customer's words, read with one
    fetch of their data key; a request without words has none."""
    await shop.register()
    login = await shop.login("aigerim.test@example.kz")
    filed = [("objection", "Отказ при оформлении"), ("rectification", None)]
    filed.append(("withdraw_consent", "Прошу прекратить обработку"))
    for kind, detail in filed:
        body = {"kind": kind, **({"detail": detail} if detail else {})}
        status, _ = await shop.call("POST", "/api/customers/me/requests", token=login, json=body)
        assert status == 201
    status, export = await shop.call("GET", "/api/customers/me/export", token=login)
    assert status == 200
    got = {r["kind"]: r.get("detail") for r in export["requests"]}
    assert got == dict(filed)
