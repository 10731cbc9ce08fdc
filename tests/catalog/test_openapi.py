"""The catalog's OpenAPI documents: every route described, and schemathesis against them."""

from __future__ import annotations

from services.catalog.app import create_app
from shared.auth import TokenIssuer
from tests.catalog.conftest import INTERNAL_TOKEN, Catalog
from tests.openapi_checks import check_described, fuzz_live, headers_for


async def test_every_route_is_described_and_answers_within_it(
    catalog: Catalog, token_issuer: TokenIssuer
) -> None:
    app = create_app(catalog.settings)
    docs = await check_described(app, catalog.http, catalog.url, "catalog")
    failures = await fuzz_live(docs, catalog.url, headers_for(token_issuer, INTERNAL_TOKEN))
    assert not failures, "\n".join(failures)
