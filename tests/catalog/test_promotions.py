"""Promotions through the catalog's HTTP API: who may manage them, what is refused, the
promoted price on the storefront and on the internal routes orders and notifications use."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared.auth import TokenIssuer
from tests.catalog.conftest import INTERNAL_TOKEN, Catalog, bearer
from tests.catalog.test_http import PROBLEM, get_json, send

PROMOTIONS = "/api/catalog/promotions"
INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}


def at(**delta: float) -> str:
    return (datetime.now(UTC) + timedelta(**delta)).isoformat()


def new_promotion(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "name": "Неделя витаминов",
        "discount": {"percent": 10},
        "category": "misc",
        "starts_at": at(hours=-1),
        "ends_at": at(days=7),
    }
    return {**body, **overrides}


@pytest.fixture
def marketer(token_issuer: TokenIssuer) -> dict[str, str]:
    return bearer(token_issuer.issue(uuid4(), "staff", frozenset({"marketer"})))


async def create(catalog: Catalog, headers: dict[str, str], **overrides: Any) -> dict[str, Any]:
    status, _, answer = await send(
        catalog, "POST", PROMOTIONS, json=new_promotion(**overrides), headers=headers
    )
    assert status == 201, answer
    return dict(answer)


async def product(catalog: Catalog, product_id: UUID) -> dict[str, Any]:
    status, answer = await get_json(catalog, f"/api/catalog/products/{product_id}")
    assert status == 200
    return dict(answer)


async def internal_price(catalog: Catalog, product_id: UUID) -> tuple[int, int]:
    status, answer = await get_json(
        catalog, f"/internal/products?ids={product_id}", headers=INTERNAL
    )
    assert status == 200
    item = answer["items"][0]
    return item["price"]["amount"], item["regular_price"]["amount"]


async def test_catalog_managers_and_marketers_manage_promotions_nobody_else(
    catalog: Catalog,
    staff_headers: dict[str, str],
    marketer: dict[str, str],
    analyst_headers: dict[str, str],
    customer_headers: dict[str, str],
):
    by_marketer = await create(catalog, marketer, name="Акция маркетолога")
    by_manager = await create(catalog, staff_headers, name="Акция менеджера")
    assert by_marketer["status"] == "live" and by_marketer["discount"] == {"percent": 10}
    one = f"{PROMOTIONS}/{by_marketer['id']}"
    for method, path, body in (
        ("GET", PROMOTIONS, None),
        ("POST", PROMOTIONS, new_promotion()),
        ("GET", one, None),
        ("PATCH", one, {"name": "Чужая"}),
    ):
        status, content_type, _ = await send(catalog, method, path, json=body)
        assert (status, content_type) == (401, PROBLEM), (method, path)
        for headers in (customer_headers, analyst_headers):
            status, content_type, _ = await send(catalog, method, path, json=body, headers=headers)
            assert (status, content_type) == (403, PROBLEM), (method, path)
    status, _, listing = await send(catalog, "GET", PROMOTIONS, headers=staff_headers)
    assert status == 200
    assert [p["id"] for p in listing["items"]] == [by_manager["id"], by_marketer["id"]]
    status, _, read = await send(catalog, "GET", one, headers=staff_headers)
    assert read == by_marketer
    status, _, renamed = await send(
        catalog, "PATCH", one, json={"name": "Новое имя"}, headers=staff_headers
    )
    assert status == 200 and renamed["name"] == "Новое имя"


async def test_listing_pages_and_filters_by_status(catalog: Catalog, marketer: dict[str, str]):
    live = [await create(catalog, marketer, name=f"Акция {i}") for i in range(3)]
    scheduled = await create(catalog, marketer, starts_at=at(days=1))
    seen, cursor = [], None
    while True:
        query = f"?limit=2&cursor={cursor}" if cursor else "?limit=2"
        status, _, page = await send(catalog, "GET", PROMOTIONS + query, headers=marketer)
        assert status == 200 and len(page["items"]) <= 2
        seen += [p["id"] for p in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [scheduled["id"], *[p["id"] for p in reversed(live)]]
    status, _, page = await send(catalog, "GET", PROMOTIONS + "?status=scheduled", headers=marketer)
    assert [p["id"] for p in page["items"]] == [scheduled["id"]]
    for none_yet in ("?status=cancelled", "?status=ended"):
        status, _, page = await send(catalog, "GET", PROMOTIONS + none_yet, headers=marketer)
        assert (status, page["items"]) == (200, []), none_yet
    for bad in ("?cursor=nonsense", "?status=paused", "?limit=0"):
        status, content_type, _ = await send(catalog, "GET", PROMOTIONS + bad, headers=marketer)
        assert (status, content_type) == (422, PROBLEM), bad


@pytest.mark.parametrize(
    "fields",
    [
        {"ends_at": at(days=-1)},  # already over
        {"starts_at": at(days=2), "ends_at": at(days=1)},
        {"discount": {"percent": 100}},
        {"discount": {"amount": 0, "currency": "KZT"}},
        {"discount": {"amount": 500, "currency": "USD"}},
        {"discount": {"percent": 5, "amount": 500, "currency": "KZT"}},
        {"product_ids": [str(uuid4())]},  # with the category as well
        {"category": "no-such-category"},
        {"category": None, "product_ids": [str(uuid4())]},  # not in the catalogue
        {"category": None, "product_ids": [str(uuid4()) for _ in range(201)]},
        {"created_by": str(uuid4())},
    ],
)
async def test_bad_promotions_are_422_problems_quoting_nothing(
    catalog: Catalog, marketer: dict[str, str], fields: dict[str, Any]
):
    body = {k: v for k, v in new_promotion(**fields).items() if v is not None}
    status, content_type, problem = await send(
        catalog, "POST", PROMOTIONS, json=body, headers=marketer
    )
    assert (status, content_type) == (422, PROBLEM), problem
    assert "no-such-category" not in json.dumps(problem)
    status, _, listing = await send(catalog, "GET", PROMOTIONS, headers=marketer)
    assert listing["items"] == []


async def test_unknown_and_malformed_ids_are_404(catalog: Catalog, marketer: dict[str, str]):
    for path in (f"{PROMOTIONS}/{uuid4()}", f"{PROMOTIONS}/not-an-id"):
        status, content_type, _ = await send(catalog, "GET", path, headers=marketer)
        assert (status, content_type) == (404, PROBLEM)
        status, _, _ = await send(catalog, "PATCH", path, json={"name": "x"}, headers=marketer)
        assert status == 404


async def test_the_best_live_offer_sets_the_price_without_stacking(
    catalog: Catalog, marketer: dict[str, str]
):
    await catalog.add_category("vitamins", "Витамины")
    cheap = await catalog.add_product("Аскорбинка", category="vitamins")  # 50 000 tiyn
    other = await catalog.add_product("Витамин D", category="vitamins")
    plain = await catalog.add_product("Бинт")  # misc: no promotion
    await create(catalog, marketer, category="vitamins", discount={"percent": 10})
    # 8 000 off beats 10% (5 000) for the one product it names.
    deal = await create(
        catalog,
        marketer,
        category=None,
        product_ids=[str(cheap)],
        discount={"amount": 8_000, "currency": "KZT"},
    )
    await create(  # not yet live: no effect
        catalog, marketer, category="vitamins", discount={"percent": 90}, starts_at=at(days=1)
    )
    shown = await product(catalog, cheap)
    assert shown["price"] == {"amount": 42_000, "currency": "KZT"}
    assert shown["regular_price"] == {"amount": 50_000, "currency": "KZT"}
    assert shown["promotion"] == {
        "id": deal["id"],
        "name": deal["name"],
        "ends_at": deal["ends_at"],
    }
    assert (await product(catalog, other))["price"]["amount"] == 45_000
    assert await internal_price(catalog, cheap) == (42_000, 50_000)
    assert await internal_price(catalog, plain) == (50_000, 50_000)
    _, listing = await get_json(catalog, "/api/catalog/products?limit=100")
    by_id = {item["id"]: item for item in listing["items"]}
    assert by_id[str(cheap)]["price"]["amount"] == 42_000
    assert by_id[str(other)]["regular_price"]["amount"] == 50_000
    assert "regular_price" not in by_id[str(plain)] and "promotion" not in by_id[str(plain)]


async def test_ending_early_restores_the_regular_price_and_freezes_the_promotion(
    catalog: Catalog, marketer: dict[str, str]
):
    product_id = await catalog.add_product("Пластырь")
    promotion = await create(catalog, marketer, discount={"percent": 20})
    one = f"{PROMOTIONS}/{promotion['id']}"
    assert (await product(catalog, product_id))["price"]["amount"] == 40_000
    status, _, live_edit = await send(
        catalog, "PATCH", one, json={"discount": {"percent": 50}}, headers=marketer
    )
    assert status == 409 and live_edit["title"] == "Promotion cannot change"
    status, _, ended = await send(catalog, "PATCH", one, json={"status": "ended"}, headers=marketer)
    assert status == 200 and ended["status"] == "ended" and ended["ended_at"] is not None
    shown = await product(catalog, product_id)
    assert shown["price"]["amount"] == 50_000 and "regular_price" not in shown
    assert await internal_price(catalog, product_id) == (50_000, 50_000)
    status, _, _ = await send(catalog, "PATCH", one, json={"name": "Снова"}, headers=marketer)
    assert status == 409


async def test_a_scheduled_promotion_can_be_cancelled_or_moved(
    catalog: Catalog, marketer: dict[str, str]
):
    product_id = await catalog.add_product("Термометр")
    promotion = await create(catalog, marketer, starts_at=at(days=1))
    one = f"{PROMOTIONS}/{promotion['id']}"
    assert promotion["status"] == "scheduled"
    status, _, moved = await send(
        catalog, "PATCH", one, json={"starts_at": at(minutes=-1)}, headers=marketer
    )
    assert status == 200 and moved["status"] == "live"
    assert (await product(catalog, product_id))["price"]["amount"] == 45_000
    later = await create(catalog, marketer, starts_at=at(days=1))
    status, _, bad = await send(
        catalog,
        "PATCH",
        f"{PROMOTIONS}/{later['id']}",
        json={"ends_at": at(hours=1)},
        headers=marketer,
    )
    assert status == 422 and bad["title"] == "Invalid promotion"
    status, _, cancelled = await send(
        catalog,
        "PATCH",
        f"{PROMOTIONS}/{later['id']}",
        json={"status": "cancelled"},
        headers=marketer,
    )
    assert status == 200 and cancelled["status"] == "cancelled"


async def test_internal_promotion_for_the_campaigns(catalog: Catalog, marketer: dict[str, str]):
    names = [f"Товар {i:02d}" for i in range(25)]
    for name in names:
        await catalog.add_product(name)
    promotion = await create(
        catalog, marketer, discount={"amount": 1_000, "currency": "KZT"}, starts_at=at(days=1)
    )
    path = f"/internal/promotions/{promotion['id']}"
    status, _ = await get_json(catalog, path)
    assert status == 403
    status, _ = await get_json(catalog, path, headers=bearer("x") | {"X-Internal-Token": "no"})
    assert status == 403
    status, _ = await get_json(catalog, f"/internal/promotions/{uuid4()}", headers=INTERNAL)
    assert status == 404
    status, answer = await get_json(catalog, path, headers=INTERNAL)
    assert status == 200
    products = answer.pop("products")
    assert answer == {
        "id": promotion["id"],
        "name": "Неделя витаминов",
        "discount": {"amount": {"amount": 1_000, "currency": "KZT"}},
        "product_ids": [],
        "category": "misc",
        "starts_at": promotion["starts_at"],
        "ends_at": promotion["ends_at"],
        "status": "scheduled",
    }
    assert [p["name"] for p in products] == names[:20]
    assert products[0]["price"] == {"amount": 49_000, "currency": "KZT"}
    assert products[0]["regular_price"] == {"amount": 50_000, "currency": "KZT"}


async def test_a_scheduled_promotion_moves_between_products_and_a_category(
    catalog: Catalog, marketer: dict[str, str]
):
    await catalog.add_category("vitamins", "Витамины")
    listed = await catalog.add_product("Цинк", category="vitamins")
    promotion = await create(
        catalog, marketer, category=None, product_ids=[str(listed)], starts_at=at(days=1)
    )
    one = f"{PROMOTIONS}/{promotion['id']}"
    status, _, problem = await send(
        catalog, "PATCH", one, json={"product_ids": [str(uuid4())]}, headers=marketer
    )
    assert (status, problem["title"]) == (422, "Unknown products")
    status, _, moved = await send(
        catalog, "PATCH", one, json={"category": "vitamins"}, headers=marketer
    )
    assert status == 200 and (moved["category"], moved["product_ids"]) == ("vitamins", [])
    status, _, back = await send(
        catalog, "PATCH", one, json={"product_ids": [str(listed)]}, headers=marketer
    )
    assert status == 200 and (back["category"], back["product_ids"]) == (None, [str(listed)])
