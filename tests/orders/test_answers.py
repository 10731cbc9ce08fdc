"""Every JSON success of the orders documents names a response model (issue 12), and the
answers schemathesis cannot reach with its random ids (an order placed, its document, the
list, the internal export) are checked live against the served schema."""

from __future__ import annotations

from uuid import uuid4

from services.orders.handlers.routes import OPERATIONS
from shared.openapi import build_document
from tests.openapi_checks import answer_checker, unmodelled_json_successes
from tests.orders.conftest import INTERNAL_TOKEN, Orders

DOCS = [build_document("O", OPERATIONS), build_document("O", OPERATIONS, internal=True)]
check_answer = answer_checker(*DOCS)


def test_every_json_success_has_a_model() -> None:
    for document in DOCS:
        assert not unmodelled_json_successes(document)


async def test_a_replayed_checkout_answers_200_as_described(orders: Orders) -> None:
    customer_id, key = uuid4(), str(uuid4())
    product = orders.catalog.add("Vitamin D", 90_000, weight_g=100)
    status, _, _ = await orders.add_item(product, 1, orders.auth(customer_id))
    assert status == 200
    first_status, placed, _ = await orders.checkout(customer_id, key=key)
    again_status, again, _ = await orders.checkout(customer_id, key=key)
    assert (first_status, again_status) == (201, 200)
    assert again["id"] == placed["id"]
    check_answer("POST", "/api/orders/checkout", 200, again)


async def test_an_order_s_answers_match_their_models(orders: Orders) -> None:
    customer_id = uuid4()
    auth = orders.auth(customer_id)
    placed = await orders.placed_order(customer_id, method="card")
    check_answer("POST", "/api/orders/checkout", 201, placed)
    order_id = placed["id"]
    status, one, _ = await orders.call("GET", f"/api/orders/{order_id}", headers=auth)
    assert status == 200
    check_answer("GET", "/api/orders/{order_id}", 200, one)
    status, page, _ = await orders.call("GET", "/api/orders", headers=auth)
    assert status == 200 and page["items"]
    check_answer("GET", "/api/orders", 200, page)
    internal = {"X-Internal-Token": INTERNAL_TOKEN}
    for path, template in (
        (f"/internal/customers/{customer_id}/export", "/internal/customers/{customer_id}/export"),
        (
            f"/internal/customers/{customer_id}/obligations",
            "/internal/customers/{customer_id}/obligations",
        ),
        (f"/internal/orders/{order_id}/customer", "/internal/orders/{order_id}/customer"),
    ):
        status, body, _ = await orders.call("GET", path, headers=internal)
        assert status == 200, body
        check_answer("GET", template, 200, body)
    status, cancelled, _ = await orders.call("POST", f"/api/orders/{order_id}/cancel", headers=auth)
    assert status == 200, cancelled
    check_answer("POST", "/api/orders/{order_id}/cancel", 200, cancelled)
    status, one, _ = await orders.call("GET", f"/api/orders/{order_id}", headers=auth)
    check_answer("GET", "/api/orders/{order_id}", 200, one)
