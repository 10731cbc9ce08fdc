"""The orders OpenAPI documents: every route described, and schemathesis against them."""

from __future__ import annotations

from services.orders.app import create_app
from tests.openapi_checks import check_described, fuzz_live, headers_for
from tests.orders.conftest import INTERNAL_TOKEN, Orders


async def test_every_route_is_described_and_answers_within_it(orders: Orders) -> None:
    docs = await check_described(create_app(orders.settings), orders.http, orders.url, "orders")
    failures = await fuzz_live(docs, orders.url, headers_for(orders.issuer, INTERNAL_TOKEN))
    assert not failures, "\n".join(failures)
