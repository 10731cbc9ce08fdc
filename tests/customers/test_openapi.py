"""The customers OpenAPI documents: every route described, and schemathesis against them."""

from __future__ import annotations

from shared.auth import TokenIssuer
from tests.customers.conftest import INTERNAL_TOKEN, Shop
from tests.openapi_checks import check_described, fuzz_live, headers_for


async def test_every_route_is_described_and_answers_within_it(shop: Shop) -> None:
    docs = await check_described(shop.app, shop.http, shop.url, "customers")
    issuer = TokenIssuer(shop.settings.private_key_pem())
    await shop.register(email="fuzzed@mail.kz")
    signed_in = await shop.login("fuzzed@mail.kz")
    failures = await fuzz_live(docs, shop.url, headers_for(issuer, INTERNAL_TOKEN, signed_in))
    assert not failures, "\n".join(failures)
