"""Checkout: authenticated, idempotent by key, priced by the catalog, one order per key."""

from __future__ import annotations

import asyncio
import re
from uuid import uuid4

import asyncpg

from tests.orders.conftest import Orders


async def _count_orders(orders: Orders) -> int:
    conn = await asyncpg.connect(orders.dsn)
    try:
        count: int = await conn.fetchval("SELECT count(*) FROM orders")
        return count
    finally:
        await conn.close()


async def test_checkout_snapshots_the_cart(orders: Orders) -> None:
    customer = uuid4()
    cream = orders.catalog.add("Cream", 250_000, weight_g=200)
    drops = orders.catalog.add("Drops", 80_000, weight_g=50)
    await orders.add_item(cream, 1, orders.auth(customer))
    await orders.add_item(drops, 3, orders.auth(customer))

    status, placed, _ = await orders.checkout(customer, key="k-1")
    assert status == 201, placed
    assert placed["status"] == "placed"
    assert re.fullmatch(r"[2-9A-Z]{4}-[2-9A-Z]{4}", placed["order_ref"])

    orders.catalog.products[cream]["price"]["amount"] = 1  # later price changes do not matter
    order = await orders.order(customer, placed["id"])
    assert order["total"] == {"amount": 490_000, "currency": "KZT"}
    assert order["payment"] == {"method": "cash_on_delivery"}
    assert order["delivery"] == {"courier": "sandbox"}
    assert [
        (i["name"], i["sku"], i["quantity"], i["unit_price"]["amount"]) for i in order["items"]
    ] == [
        ("Cream", "SKU-001", 1, 250_000),
        ("Drops", "SKU-002", 3, 80_000),
    ]
    assert [(h["status"], h["cause"]) for h in order["history"]] == [("placed", "checkout")]
    assert set(order) == {
        "id", "order_ref", "status", "items", "total", "payment", "delivery", "history",
        "created_at", "payment_url", "needs_attention",
    }  # fmt: skip

    _, cart, _ = await orders.call("GET", "/api/orders/cart", headers=orders.auth(customer))
    assert cart["items"] == []


async def test_same_key_same_body_is_the_same_order(orders: Orders) -> None:
    customer = uuid4()
    first = await orders.placed_order(customer)
    key = "retry-me"
    await orders.add_item(orders.catalog.add("Zinc", 30_000), 1, orders.auth(customer))
    status, placed, _ = await orders.checkout(customer, key=key)
    assert status == 201
    status, again, _ = await orders.checkout(customer, key=key)
    assert status == 200
    assert again == placed
    assert placed["id"] != first["id"]
    assert await _count_orders(orders) == 2


async def test_same_key_other_body_is_a_conflict(orders: Orders) -> None:
    customer = uuid4()
    await orders.add_item(orders.catalog.add("Tea", 10_000), 1, orders.auth(customer))
    status, _, _ = await orders.checkout(customer, key="k")
    assert status == 201
    status, problem, response = await orders.checkout(customer, key="k", method="card")
    assert status == 409
    assert response.content_type == "application/problem+json"
    assert problem["title"] == "Idempotency-Key reused"

    # The key is the customer's own: another customer's same key is a separate request.
    other = uuid4()
    await orders.add_item(orders.catalog.add("Tea 2", 10_000), 1, orders.auth(other))
    status, _, _ = await orders.checkout(other, key="k")
    assert status == 201


async def test_concurrent_same_key_makes_exactly_one_order(orders: Orders) -> None:
    customer = uuid4()
    await orders.add_item(orders.catalog.add("Mask", 5_000), 10, orders.auth(customer))
    results = await asyncio.gather(*(orders.checkout(customer, key="burst") for _ in range(10)))
    statuses = sorted(status for status, _, _ in results)
    assert statuses == [200] * 9 + [201], [data for _, data, _ in results]
    assert len({data["id"] for _, data, _ in results}) == 1
    assert await _count_orders(orders) == 1


async def test_a_cart_edited_while_it_is_priced_places_no_order(orders: Orders) -> None:
    """Checkout prices the cart outside its transaction; the lines are read again under the
    cart's lock, so an edit in between is refused, not half-ordered."""
    customer = uuid4()
    await orders.add_item(orders.catalog.add("Tea", 10_000), 1, orders.auth(customer))
    syrup = orders.catalog.add("Syrup", 4_000)
    orders.catalog.during_next_call = lambda: orders.add_item(syrup, 2, orders.auth(customer))

    status, problem, _ = await orders.checkout(customer, key="edited")
    assert (status, problem["title"]) == (409, "Cart changed"), problem
    assert await _count_orders(orders) == 0

    status, order, _ = await orders.checkout(customer, key="edited")  # the key is free again
    assert status == 201, order
    placed = await orders.order(customer, order["id"])
    assert sorted(line["quantity"] for line in placed["items"]) == [1, 2], placed


async def test_checkout_needs_a_key_a_customer_and_a_cart(orders: Orders) -> None:
    customer = uuid4()
    body = {"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}}
    status, problem, response = await orders.call(
        "POST", "/api/orders/checkout", json_body=body, headers=orders.auth(customer)
    )
    assert status == 428
    assert response.content_type == "application/problem+json"

    status, _, _ = await orders.call(
        "POST", "/api/orders/checkout", json_body=body, headers={"Idempotency-Key": "a"}
    )
    assert status == 401

    status, problem, _ = await orders.checkout(customer)
    assert (status, problem["title"]) == (409, "Cart is empty")

    await orders.add_item(orders.catalog.add("Soap", 1_000), 1, orders.auth(customer))
    status, problem, _ = await orders.checkout(customer, courier="teleport")
    assert (status, problem["title"]) == (422, "Unknown courier")
    assert await _count_orders(orders) == 0


async def test_vanished_product_blocks_checkout(orders: Orders) -> None:
    customer = uuid4()
    product = orders.catalog.add("Discontinued", 1_000)
    await orders.add_item(product, 1, orders.auth(customer))
    del orders.catalog.products[product]
    _, cart, _ = await orders.call("GET", "/api/orders/cart", headers=orders.auth(customer))
    assert cart["items"] == [] and cart["unavailable"] == [str(product)]
    status, problem, _ = await orders.checkout(customer)
    assert status == 409
    assert problem["product_ids"] == [str(product)]


async def test_bad_checkout_input_is_a_problem(orders: Orders) -> None:
    customer = uuid4()
    await orders.add_item(orders.catalog.add("Pill", 1_000), 1, orders.auth(customer))
    headers = {**orders.auth(customer), "Idempotency-Key": "bad-input"}
    bodies: list[object] = [
        {"delivery": {"courier": "sandbox"}},
        {"delivery": {"courier": "sandbox"}, "payment": {"method": "crypto"}},
        {"delivery": {"courier": 5}, "payment": {"method": "card"}},
        {"delivery": "sandbox", "payment": {"method": "card"}},
        {
            "delivery": {"courier": "sandbox", "address": "Abai 1"},
            "payment": {"method": "card"},
        },
        {"delivery": {"courier": "sandbox"}, "payment": {"method": "card"}, "iin": "1"},
    ]
    for body in bodies:
        status, problem, response = await orders.call(
            "POST", "/api/orders/checkout", json_body=body, headers=headers
        )
        assert status == 422, body
        assert response.content_type == "application/problem+json"
        assert "Abai" not in str(problem)  # values are never echoed
    async with orders.http.post(
        orders.url + "/api/orders/checkout",
        data=b'{"delivery": ',
        headers={**headers, "Content-Type": "application/json"},
    ) as response:
        assert response.status == 400
        assert response.content_type == "application/problem+json"
    status, _, _ = await orders.checkout(customer, key="x" * 201)
    assert status == 400
    assert await _count_orders(orders) == 0
