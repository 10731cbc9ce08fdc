"""The orders OpenAPI documents: every route described, and schemathesis against them."""

from __future__ import annotations

from services.orders.app import create_app
from services.orders.handlers.answers import CartAnswer
from tests.openapi_checks import check_described, fuzz_live, headers_for
from tests.orders.conftest import INTERNAL_TOKEN, Orders


async def test_every_route_is_described_and_answers_within_it(orders: Orders) -> None:
    docs = await check_described(create_app(orders.settings), orders.http, orders.url, "orders")
    failures = await fuzz_live(docs, orders.url, headers_for(orders.issuer, INTERNAL_TOKEN))
    assert not failures, "\n".join(failures)


async def test_a_cart_with_lines_answers_as_described(orders: Orders) -> None:
    """Schemathesis' random product ids meet an empty cart; a line from a known product
    must fit the described answer too."""
    product_id = orders.catalog.add("Аспирин", 120_00)
    status, body, _ = await orders.add_item(product_id, 2, {})
    assert status == 200
    answer = CartAnswer.model_validate(body)
    assert [line.product_id for line in answer.items] == [product_id]
