"""Support's contact lookup (policy 3.2.4) against a real orders service: the contact of the
customer of one order, for a stated reason, in the register and the audit log; nothing more."""

from __future__ import annotations

import io
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from tests.customers.conftest import MakeShop, Shop
from tests.customers.desk_helpers import Staff, audit_rows, staff_member
from tests.customers.test_answers import check_answer
from tests.customers.test_privacy import PD_STRINGS
from tests.orders.conftest import Orders, catalog, orders, orders_overrides

__all__ = ["catalog", "orders", "orders_overrides"]  # the orders fixtures, used here

LOOKUPS = "/api/customers/support/contact-lookups"


async def staff_token(shop: Shop, email: str, *roles: str) -> str:
    return (await staff_member(shop, email, *roles)).token


async def on_orders(orders: Orders, sql: str, *args: Any) -> None:
    conn = await asyncpg.connect(orders.dsn)
    try:
        await conn.execute(sql, *args)
    finally:
        await conn.close()


@pytest.fixture
async def support_shop(shop_factory: MakeShop, orders: Orders) -> Shop:
    return await shop_factory(orders_url=orders.url)


async def customer_with_order(shop: Shop, orders: Orders) -> tuple[str, dict[str, Any]]:
    customer_id = await shop.register()
    order = await orders.placed_order(UUID(customer_id))
    return customer_id, order


async def looked_up(
    shop: Shop, orders: Orders
) -> tuple[str, dict[str, Any], Staff, dict[str, Any]]:
    """A customer with an order whose contact a support agent has just looked up: the
    customer's id, the order, the agent and the lookup's answer."""
    customer_id, order = await customer_with_order(shop, orders)
    agent = await staff_member(shop, "agent@shop.kz", "support")
    status, body = await shop.call(
        "POST",
        LOOKUPS,
        token=agent.token,
        json={"order_id": order["id"], "reason": "delivery_problem"},
    )
    assert status == 201, body
    check_answer(f"POST {LOOKUPS}", body)
    return customer_id, order, agent, body


async def test_support_sees_name_and_phone_for_an_order_and_it_is_recorded(
    support_shop: Shop, orders: Orders, captured_logs: io.StringIO
) -> None:
    shop = support_shop
    customer_id, order, agent, body = await looked_up(shop, orders)
    assert body["contact"] == {"name": "Айгерим Жумабекова", "phone": "+77012345678"}
    assert body["order_id"] == order["id"] and body["order_ref"] == order["order_ref"]
    text = str(body)
    for absent in ("example.kz", "Нурлановна", "Шымкент", customer_id):
        assert absent not in text

    login = await shop.login("aigerim.test@example.kz")
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=login)
    (item,) = register["items"]
    assert item["recipient"] == "staff:support" and item["purpose"] == "support"
    assert item["fields"] == ["phone", "recipient_name"]
    assert item["order_ref"] == order["order_ref"] and item["reason"] == "delivery_problem"
    assert item["country"] == "KZ" and item["release_id"] == body["release_id"]

    audit = [r for r in await audit_rows(shop, customer_id) if r["purpose"] == "support"]
    assert [(r["actor"], r["purpose"], r["fields"]) for r in audit] == [
        (f"staff:{agent.id}", "support", ["last_name", "first_name", "phone"])
    ]
    logs = captured_logs.getvalue()
    assert "support contact released" in logs
    for needle in PD_STRINGS:
        assert needle not in logs


async def test_only_support_and_only_by_order(support_shop: Shop, orders: Orders) -> None:
    shop = support_shop
    customer_id, order = await customer_with_order(shop, orders)
    body = {"order_id": order["id"], "reason": "order_question"}
    manager = await staff_token(shop, "manager@shop.kz", "catalog_manager")
    customer = await shop.login("aigerim.test@example.kz")

    status, problem = await shop.call("POST", LOOKUPS, json=body)
    assert status == 401
    for token in (manager, customer):
        status, problem = await shop.call("POST", LOOKUPS, token=token, json=body)
        assert status == 403, problem

    support = await staff_token(shop, "agent@shop.kz", "support")
    status, problem = await shop.call(
        "POST", LOOKUPS, token=support, json={"order_id": str(uuid4()), "reason": "order_question"}
    )
    assert status == 404 and problem["title"] == "Not found"
    # No lookup by anything but an order, no free-text reason: refused, quoting nothing.
    for sent in (
        {"order_id": order["id"], "reason": "позвонить Айгерим Жумабековой"},
        {"order_id": order["id"], "reason": "order_question", "customer_id": customer_id},
        {"phone": "+77012345678", "reason": "order_question"},
    ):
        status, problem = await shop.call("POST", LOOKUPS, token=support, json=sent)
        assert status == 422, problem
        assert "Айгерим" not in str(problem) and "7012345678" not in str(problem)
        assert customer_id not in str(problem)

    conn = await shop.db()
    try:
        assert await conn.fetchval("SELECT count(*) FROM disclosures") == 0
    finally:
        await conn.close()


async def test_a_blocked_customer_is_reached_only_for_an_order_placed_before_the_block(
    support_shop: Shop, orders: Orders
) -> None:
    shop = support_shop
    customer_id, order = await customer_with_order(shop, orders)
    await shop.block(customer_id)
    support = await staff_token(shop, "agent@shop.kz", "support")
    body = {"order_id": order["id"], "reason": "delivery_problem"}

    # Placed before the block and still open: an obligation already open, as its delivery is.
    status, found = await shop.call("POST", LOOKUPS, token=support, json=body)
    assert status == 201, found
    conn = await shop.db()
    try:
        basis = await conn.fetchval("SELECT legal_basis FROM disclosures")
    finally:
        await conn.close()
    assert "processing is blocked: released for an open obligation" in basis
    assert order["order_ref"] in basis

    # Once the order is closed, the block stops support too.
    await on_orders(
        orders, "UPDATE orders SET status = 'delivered' WHERE id = $1", UUID(order["id"])
    )
    status, problem = await shop.call("POST", LOOKUPS, token=support, json=body)
    assert status == 409 and problem["title"] == "Blocked"
    # An order placed after the block (a checkout racing the block) is no obligation either.
    await on_orders(
        orders,
        "UPDATE orders SET status = 'placed', created_at = now() + interval '1 minute'"
        " WHERE id = $1",
        UUID(order["id"]),
    )
    status, problem = await shop.call("POST", LOOKUPS, token=support, json=body)
    assert status == 409 and problem["title"] == "Blocked"


async def test_an_order_closed_long_ago_gives_no_contact(
    support_shop: Shop, orders: Orders
) -> None:
    shop = support_shop
    _, order = await customer_with_order(shop, orders)
    support = await staff_token(shop, "agent@shop.kz", "support")
    await on_orders(
        orders,
        "UPDATE orders SET status = 'delivered', updated_at = now() - interval '31 days'"
        " WHERE id = $1",
        UUID(order["id"]),
    )
    body = {"order_id": order["id"], "reason": "return_or_refund"}
    status, problem = await shop.call("POST", LOOKUPS, token=support, json=body)
    assert status == 409 and problem["title"] == "Order closed"

    await on_orders(
        orders,
        "UPDATE orders SET updated_at = now() - interval '29 days' WHERE id = $1",
        UUID(order["id"]),
    )
    status, _ = await shop.call("POST", LOOKUPS, token=support, json=body)
    assert status == 201
