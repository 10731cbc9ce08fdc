"""Every JSON success of the catalog documents names a response model (issue 12), and the
answers about real rows (a product under a promotion, the promotions, the internal routes,
the statistics) are checked live against the served schema."""

from __future__ import annotations

from uuid import uuid4

from services.catalog.routes import OPERATIONS
from shared.auth import TokenIssuer
from shared.openapi import build_document
from tests.catalog.conftest import INTERNAL_TOKEN, Catalog, bearer
from tests.catalog.test_http import get_json, send
from tests.catalog.test_promotions import new_promotion
from tests.openapi_checks import answer_checker, unmodelled_json_successes

DOCS = [build_document("C", OPERATIONS), build_document("C", OPERATIONS, internal=True)]
check_answer = answer_checker(*DOCS)


def test_every_json_success_has_a_model() -> None:
    for document in DOCS:
        assert not unmodelled_json_successes(document)


async def test_answers_about_real_rows_match_their_models(
    catalog: Catalog, token_issuer: TokenIssuer
) -> None:
    product_id = await catalog.add_product("Витамин C")
    staff = bearer(
        token_issuer.issue(uuid4(), "staff", frozenset({"marketer", "catalog_manager", "analyst"}))
    )
    internal = {"X-Internal-Token": INTERNAL_TOKEN}
    status, _, by_category = await send(
        catalog, "POST", "/api/catalog/promotions", json=new_promotion(), headers=staff
    )
    assert status == 201, by_category
    check_answer("POST", "/api/catalog/promotions", 201, by_category)
    amount_off = new_promotion(
        discount={"amount": 1000, "currency": "KZT"},
        category=None,
        product_ids=[str(product_id)],
    )
    del amount_off["category"]
    status, _, by_product = await send(
        catalog, "POST", "/api/catalog/promotions", json=amount_off, headers=staff
    )
    assert status == 201, by_product
    check_answer("POST", "/api/catalog/promotions", 201, by_product)
    reads = [
        ("/api/catalog/products/{id}", f"/api/catalog/products/{product_id}", {}),
        ("/api/catalog/products", "/api/catalog/products", {}),
        ("/api/catalog/categories", "/api/catalog/categories", {}),
        ("/api/catalog/promotions", "/api/catalog/promotions", staff),
        ("/api/catalog/promotions/{id}", f"/api/catalog/promotions/{by_product['id']}", staff),
        ("/internal/products", f"/internal/products?ids={product_id}", internal),
        ("/internal/promotions/{id}", f"/internal/promotions/{by_product['id']}", internal),
        ("/internal/promotions/{id}", f"/internal/promotions/{by_category['id']}", internal),
        ("/api/stats/report", "/api/stats/report", staff),
        ("/api/stats/export", "/api/stats/export", staff),
    ]
    for template, path, headers in reads:
        status, body = await get_json(catalog, path, headers=headers)
        assert status == 200, (path, body)
        check_answer("GET", template, 200, body)
    status, _, ended = await send(
        catalog,
        "PATCH",
        f"/api/catalog/promotions/{by_product['id']}",
        json={"status": "ended"},
        headers=staff,
    )
    if status == 200:
        check_answer("PATCH", "/api/catalog/promotions/{id}", 200, ended)
