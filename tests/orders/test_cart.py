"""The cart: anonymous by cookie, joined to the account on sign-in, priced by the catalog."""

from __future__ import annotations

from http.cookies import SimpleCookie
from uuid import uuid4

import asyncpg

from tests.orders.conftest import Orders


def _cart_cookie(response_headers: object) -> SimpleCookie:
    cookie: SimpleCookie = SimpleCookie()
    for value in response_headers.getall("Set-Cookie", []):  # type: ignore[attr-defined]
        cookie.load(value)
    return cookie


async def test_anonymous_cart_lives_in_a_cookie(orders: Orders) -> None:
    aspirin = orders.catalog.add("Aspirin", 45_000)
    status, cart, response = await orders.add_item(aspirin, 2, {})
    assert status == 200, cart
    cookie = _cart_cookie(response.headers)["cart_id"]
    assert cookie["httponly"] is True
    assert cookie["samesite"] == "Lax"
    assert cookie["path"] == "/api/orders"
    assert cookie["secure"] is True
    jar = {"Cookie": f"cart_id={cookie.value}"}

    status, cart, _ = await orders.add_item(aspirin, 1, jar)
    assert status == 200
    status, cart, response = await orders.call("GET", "/api/orders/cart", headers=jar)
    assert status == 200
    assert "Set-Cookie" not in response.headers
    assert cart["items"] == [
        {
            "product_id": str(aspirin),
            "name": "Aspirin",
            "quantity": 3,
            "price": {"amount": 45_000, "currency": "KZT"},
            "line_total": {"amount": 135_000, "currency": "KZT"},
        }
    ]
    assert cart["total"] == {"amount": 135_000, "currency": "KZT"}

    status, cart, _ = await orders.call("GET", "/api/orders/cart")
    assert (status, cart["items"]) == (200, [])


async def test_the_add_answer_is_the_cart_as_read_after(orders: Orders) -> None:
    """Adding reads the cart once and answers the lines from that read and the added line:
    the same lines, in the same order, as a read of the cart after it."""
    first, second, third = (orders.catalog.add(name, 10_000) for name in ("A", "B", "C"))
    _, _, response = await orders.add_item(first, 1, {})
    jar = {"Cookie": f"cart_id={_cart_cookie(response.headers)['cart_id'].value}"}
    for product, quantity in ((second, 2), (third, 1), (first, 4), (second, 1)):
        status, answered, _ = await orders.add_item(product, quantity, jar)
        assert status == 200, answered
        _, read, _ = await orders.call("GET", "/api/orders/cart", headers=jar)
        assert answered == read
    assert [(i["product_id"], i["quantity"]) for i in read["items"]] == [
        (str(third), 1),
        (str(first), 5),
        (str(second), 3),
    ]


async def test_prices_come_from_the_catalog_not_the_client(orders: Orders) -> None:
    product = orders.catalog.add("Syrup", 99_000)
    body = {"product_id": str(product), "quantity": 1, "price": {"amount": 1, "currency": "KZT"}}
    status, problem, response = await orders.call("POST", "/api/orders/cart/items", json_body=body)
    assert status == 422
    assert response.content_type == "application/problem+json"
    assert problem["errors"][0]["field"] == "price"

    _, cart, response = await orders.add_item(product, 1, {})
    orders.catalog.products[product]["price"]["amount"] = 120_000
    jar = {"Cookie": f"cart_id={_cart_cookie(response.headers)['cart_id'].value}"}
    _, cart, _ = await orders.call("GET", "/api/orders/cart", headers=jar)
    assert cart["total"]["amount"] == 120_000


async def test_cart_limits_and_unknown_products(orders: Orders) -> None:
    product = orders.catalog.add("Bandage", 10_000)
    status, problem, response = await orders.add_item(uuid4(), 1, {})
    assert status == 404
    assert response.content_type == "application/problem+json"
    assert "Set-Cookie" not in response.headers  # no cart is made for a refused request

    for quantity in (0, 100, -1):
        status, _, _ = await orders.add_item(product, quantity, {})
        assert status == 422

    _, _, response = await orders.add_item(product, 99, {})
    jar = {"Cookie": f"cart_id={_cart_cookie(response.headers)['cart_id'].value}"}
    status, problem, _ = await orders.add_item(product, 1, jar)
    assert status == 422
    assert problem["title"] == "Too many units"


async def test_remove_an_item(orders: Orders) -> None:
    first, second = orders.catalog.add("A", 1_000), orders.catalog.add("B", 2_000)
    _, _, response = await orders.add_item(first, 1, {})
    jar = {"Cookie": f"cart_id={_cart_cookie(response.headers)['cart_id'].value}"}
    await orders.add_item(second, 2, jar)

    status, cart, _ = await orders.call("DELETE", f"/api/orders/cart/items/{first}", headers=jar)
    assert status == 200
    assert [item["product_id"] for item in cart["items"]] == [str(second)]
    assert cart["total"]["amount"] == 4_000
    status, _, _ = await orders.call("DELETE", f"/api/orders/cart/items/{first}", headers=jar)
    assert status == 404
    status, _, _ = await orders.call("DELETE", "/api/orders/cart/items/not-a-uuid", headers=jar)
    assert status == 404


async def test_cart_is_joined_to_the_account_on_sign_in(orders: Orders) -> None:
    customer = uuid4()
    kept, shared_product, added = (
        orders.catalog.add("Kept", 1_000),
        orders.catalog.add("Both", 2_000),
        orders.catalog.add("Added", 3_000),
    )
    await orders.add_item(kept, 1, orders.auth(customer))
    await orders.add_item(shared_product, 1, orders.auth(customer))

    _, _, response = await orders.add_item(shared_product, 2, {})
    anonymous = _cart_cookie(response.headers)["cart_id"].value
    await orders.add_item(added, 4, {"Cookie": f"cart_id={anonymous}"})

    signed_in = {**orders.auth(customer), "Cookie": f"cart_id={anonymous}"}
    status, cart, response = await orders.call("GET", "/api/orders/cart", headers=signed_in)
    assert status == 200
    quantities = {item["product_id"]: item["quantity"] for item in cart["items"]}
    # Lines in one cart are carried over; the product in both takes the newer line (2).
    assert quantities == {str(kept): 1, str(shared_product): 2, str(added): 4}
    assert cart["total"]["amount"] == 1_000 + 4_000 + 12_000
    cleared = _cart_cookie(response.headers)["cart_id"]
    assert cleared.value == "" and cleared["max-age"] == "0"

    # The anonymous cart is gone; the account keeps the merged cart on any device.
    _, anon_cart, _ = await orders.call(
        "GET", "/api/orders/cart", headers={"Cookie": f"cart_id={anonymous}"}
    )
    assert anon_cart["items"] == []
    _, again, _ = await orders.call("GET", "/api/orders/cart", headers=orders.auth(customer))
    assert again["items"] == cart["items"]


async def test_on_sign_in_the_account_line_wins_when_it_is_newer(orders: Orders) -> None:
    customer = uuid4()
    product = orders.catalog.add("Both", 2_000)
    _, _, response = await orders.add_item(product, 5, {})
    anonymous = _cart_cookie(response.headers)["cart_id"].value
    await orders.add_item(product, 1, orders.auth(customer))  # changed after the anonymous

    signed_in = {**orders.auth(customer), "Cookie": f"cart_id={anonymous}"}
    status, cart, _ = await orders.call("GET", "/api/orders/cart", headers=signed_in)
    assert status == 200
    assert [(i["product_id"], i["quantity"]) for i in cart["items"]] == [(str(product), 1)]


async def test_a_customer_cart_cannot_be_reached_by_cookie(orders: Orders) -> None:
    customer = uuid4()
    product = orders.catalog.add("Private", 5_000)
    await orders.add_item(product, 1, orders.auth(customer))
    conn = await asyncpg.connect(orders.dsn)
    try:
        cart_id = await conn.fetchval("SELECT id FROM carts WHERE customer_id = $1", customer)
    finally:
        await conn.close()
    _, cart, _ = await orders.call(
        "GET", "/api/orders/cart", headers={"Cookie": f"cart_id={cart_id}"}
    )
    assert cart["items"] == []


async def test_bad_cart_input_is_a_problem(orders: Orders) -> None:
    product = orders.catalog.add("Gauze", 1_000)
    cases: list[tuple[bytes, str, int]] = [
        (b"{not json", "application/json", 400),
        (b'{"product_id": 5, "quantity": 1}', "application/json", 422),
        (f'{{"product_id": "{product}", "quantity": "2"}}'.encode(), "application/json", 422),
        (f'{{"product_id": "{product}", "quantity": true}}'.encode(), "application/json", 422),
        (f'{{"product_id": "{product}", "quantity": 1, "x": 1}}'.encode(), "application/json", 422),
        (b"[]", "application/json", 422),
        (b"product_id=1", "application/x-www-form-urlencoded", 415),
    ]
    for body, content_type, expected in cases:
        async with orders.http.post(
            orders.url + "/api/orders/cart/items", data=body, headers={"Content-Type": content_type}
        ) as response:
            assert response.status == expected, body
            assert response.content_type == "application/problem+json"
