"""The catalog's HTTP API: listing, paging, search, staff writes, bad input, internal route."""

# Russian product names are full of Cyrillic letters that look like Latin ones.

from __future__ import annotations

from typing import Any
from uuid import uuid4

import pytest

from tests.catalog.conftest import INTERNAL_TOKEN, Catalog

PROBLEM = "application/problem+json"


async def get_json(catalog: Catalog, path: str, **kwargs: Any) -> tuple[int, Any]:
    async with catalog.http.get(catalog.url + path, **kwargs) as response:
        return response.status, await response.json(content_type=None)


async def send(catalog: Catalog, method: str, path: str, **kwargs: Any) -> tuple[int, str, Any]:
    async with catalog.http.request(method, catalog.url + path, **kwargs) as response:
        body = await response.json(content_type=None) if response.status != 204 else None
        return response.status, response.content_type, body


def new_product(**overrides: Any) -> dict[str, Any]:
    body = {
        "sku": f"TEST-{uuid4().hex[:8]}",
        "name": "Парацетамол 500 мг, 20 таблеток",
        "description": "Жаропонижающее",
        "category": "misc",
        "price": {"amount": 25_000, "currency": "KZT"},
        "weight_g": 20,
        "stock": 5,
    }
    body.update(overrides)
    return body


async def test_listing_pages_through_everything_once_in_name_order(catalog: Catalog):
    names = [f"Товар {i:02d}" for i in range(25)]
    for name in reversed(names):
        await catalog.add_product(name, stock=len(name) % 3)
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": "7", **({"cursor": cursor} if cursor else {})}
        status, page = await get_json(catalog, "/api/catalog/products", params=params)
        assert status == 200
        assert len(page["items"]) <= 7
        seen += [item["name"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == names


async def test_listing_item_shape(catalog: Catalog):
    product_id = await catalog.add_product("Ибупрофен 200 мг", stock=0, weight_g=35)
    status, page = await get_json(catalog, "/api/catalog/products")
    assert status == 200
    assert page == {
        "items": [
            {
                "id": str(product_id),
                "sku": f"SKU-{product_id.hex[:12]}",
                "name": "Ибупрофен 200 мг",
                "description": "",
                "category": "misc",
                "price": {"amount": 50_000, "currency": "KZT"},
                "weight_g": 35,
                "in_stock": False,
                "available": 0,
                "lang": "ru",
                "images": [],
                "attributes": {
                    "form": None,
                    "dosage": None,
                    "pack_size": None,
                    "prescription_only": False,
                },
                "archived": False,
            }
        ],
        "next_cursor": None,
    }


async def test_search_and_category_filter(catalog: Catalog):
    await catalog.add_category("vitamins", "Витамины")
    await catalog.add_product("Витамин C 1000 мг", category="vitamins")
    await catalog.add_product("Витамин D3 2000 МЕ", category="vitamins")
    await catalog.add_product("Парацетамол 500 мг")
    await catalog.add_product("Скидка 100% на всё")

    _, found = await get_json(catalog, "/api/catalog/products", params={"q": "витамин"})
    assert sorted(i["name"] for i in found["items"]) == ["Витамин C 1000 мг", "Витамин D3 2000 МЕ"]
    _, found = await get_json(catalog, "/api/catalog/products", params={"category": "misc"})
    assert [i["name"] for i in found["items"]] == ["Парацетамол 500 мг", "Скидка 100% на всё"]
    # LIKE wildcards in the query are taken literally: the product with "100%" ranks first
    # ("1000" is similar enough to "100" to follow, and a random SKU may have "100" in it).
    _, found = await get_json(catalog, "/api/catalog/products", params={"q": "100%"})
    assert found["items"][0]["name"] == "Скидка 100% на всё"
    _, found = await get_json(catalog, "/api/catalog/products", params={"q": "%%%"})
    assert found["items"] == []
    _, found = await get_json(
        catalog, "/api/catalog/products", params={"q": "Витамин", "category": "misc"}
    )
    assert found["items"] == []


async def test_product_by_id_and_categories(catalog: Catalog):
    product_id = await catalog.add_product("Смекта")
    status, product = await get_json(catalog, f"/api/catalog/products/{product_id}")
    assert status == 200 and product["name"] == "Смекта" and product["available"] == 10
    status, categories = await get_json(catalog, "/api/catalog/categories")
    assert status == 200
    assert [(c["slug"], c["name"], c["products"]) for c in categories["items"]] == [
        ("misc", "Разное", 1)
    ]


@pytest.mark.parametrize("product_id", [str(uuid4()), "not-a-uuid", "1%20OR%201=1"])
async def test_missing_or_malformed_product_id_is_404_problem(catalog: Catalog, product_id):
    async with catalog.http.get(f"{catalog.url}/api/catalog/products/{product_id}") as response:
        assert response.status == 404
        assert response.content_type == PROBLEM
        assert (await response.json(content_type=None))["title"] == "Product not found"


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "101"},
        {"limit": "ten"},
        {"category": "Не слаг"},
        {"q": "x" * 101},
        {"q": "nul\x00byte"},
    ],
)
async def test_bad_listing_params_are_4xx_problems(catalog: Catalog, params):
    async with catalog.http.get(f"{catalog.url}/api/catalog/products", params=params) as response:
        assert 400 <= response.status < 500
        assert response.content_type == PROBLEM


@pytest.mark.parametrize("cursor", ["not a cursor", "W10", "WyJhIiwgIm5vdC1hLXV1aWQiXQ"])
async def test_a_bad_cursor_is_the_same_422_problem_as_in_orders(catalog: Catalog, cursor):
    params = {"cursor": cursor}
    async with catalog.http.get(f"{catalog.url}/api/catalog/products", params=params) as response:
        assert response.status == 422
        assert response.content_type == PROBLEM
        assert (await response.json(content_type=None))["title"] == "Invalid cursor"


async def test_staff_write_needs_the_catalog_manager_role(
    catalog: Catalog, customer_headers, analyst_headers, staff_headers
):
    path = "/api/catalog/products"
    status, kind, _ = await send(catalog, "POST", path, json=new_product())
    assert (status, kind) == (401, PROBLEM)
    for headers in (customer_headers, analyst_headers):
        status, kind, _ = await send(catalog, "POST", path, json=new_product(), headers=headers)
        assert (status, kind) == (403, PROBLEM)
    status, _, _ = await send(
        catalog, "POST", path, json=new_product(), headers={"Authorization": "Bearer forged"}
    )
    assert status == 401
    status, _, created = await send(
        catalog, "POST", path, json=new_product(), headers=staff_headers
    )
    assert status == 201
    assert created["available"] == 5 and created["in_stock"] is True
    category = {"slug": "devices", "name": "Медтехника"}
    status, _, _ = await send(catalog, "POST", "/api/catalog/categories", json=category)
    assert status == 401
    status, _, _ = await send(
        catalog, "POST", "/api/catalog/categories", json=category, headers=customer_headers
    )
    assert status == 403


async def test_staff_creates_and_patches_a_product(catalog: Catalog, staff_headers):
    status, _, category = await send(
        catalog,
        "POST",
        "/api/catalog/categories",
        json={"slug": "devices", "name": "Медтехника"},
        headers=staff_headers,
    )
    assert status == 201 and category["slug"] == "devices"
    body = new_product(name="Термометр", category="devices", stock=3)
    status, _, created = await send(
        catalog, "POST", "/api/catalog/products", json=body, headers=staff_headers
    )
    assert status == 201
    path = f"/api/catalog/products/{created['id']}"
    patch = {"price": {"amount": 99_000, "currency": "KZT"}, "stock": 0, "name": "Термометр ЦТ"}
    status, _, patched = await send(catalog, "PATCH", path, json=patch, headers=staff_headers)
    assert status == 200
    assert patched["price"] == {"amount": 99_000, "currency": "KZT"}
    assert patched["name"] == "Термометр ЦТ"
    assert patched["category"] == "devices"
    assert (patched["in_stock"], patched["available"]) == (False, 0)
    status, product = await get_json(catalog, path)
    assert product == patched

    status, _, problem = await send(
        catalog, "POST", "/api/catalog/products", json=body, headers=staff_headers
    )
    assert status == 409 and "SKU" in problem["detail"]
    status, _, _ = await send(
        catalog,
        "POST",
        "/api/catalog/categories",
        json={"slug": "devices", "name": "Ещё раз"},
        headers=staff_headers,
    )
    assert status == 409
    status, _, _ = await send(
        catalog, "PATCH", f"/api/catalog/products/{uuid4()}", json=patch, headers=staff_headers
    )
    assert status == 404


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (new_product(color="red"), 422),  # unknown field
        (new_product(stock="5"), 422),  # wrong type
        (new_product(stock=-1), 422),
        (new_product(stock=10**12), 422),
        (new_product(price=25_000), 422),
        (new_product(price={"amount": 1, "currency": "USD"}), 422),
        (new_product(price={"amount": 10**15, "currency": "KZT"}), 422),
        (new_product(name=""), 422),
        (new_product(name="nul\x00"), 422),
        (new_product(sku="has space"), 422),
        (new_product(category="nowhere"), 422),
        ([new_product()], 422),
    ],
)
async def test_bad_product_bodies_are_4xx_problems(catalog: Catalog, staff_headers, body, status):
    got, kind, problem = await send(
        catalog, "POST", "/api/catalog/products", json=body, headers=staff_headers
    )
    assert (got, kind) == (status, PROBLEM)
    assert "Парацетамол" not in str(problem)  # values are never echoed


@pytest.mark.parametrize(
    "body",
    [
        new_product(name="Парацетамол\x1b[2J"),  # a terminal escape
        new_product(name="Парацетамол\u202eгм 005"),  # a right-to-left override
        new_product(name="Парацетамол\r\nX-Injected: 1"),  # a line break in a name
        new_product(name="\u200b\u200d"),  # only zero-width characters
        new_product(description="Жаропонижающее\x07\x08"),
        new_product(description="Жаропонижающее\u2066"),
        new_product(description="\n\u200b"),
    ],
)
async def test_product_text_follows_the_plain_text_rule(catalog: Catalog, staff_headers, body):
    """Names and descriptions go onto pages and into couriers' parcels: the same rule as
    personal text (shared.text), a description may have line feeds between paragraphs."""
    status, kind, problem = await send(
        catalog, "POST", "/api/catalog/products", json=body, headers=staff_headers
    )
    assert (status, kind) == (422, PROBLEM)
    assert "Парацетамол" not in str(problem) and "Жаропонижающее" not in str(problem)
    product_id = await catalog.add_product("Бинт")
    patch = {key: body[key] for key in ("name", "description")}
    status, _, _ = await send(
        catalog, "PATCH", f"/api/catalog/products/{product_id}", json=patch, headers=staff_headers
    )
    assert status == 422


async def test_a_description_may_have_paragraphs(catalog: Catalog, staff_headers):
    body = new_product(description="Жаропонижающее.\n\nПо 1 таблетке 3 раза в день.")
    status, _, created = await send(
        catalog, "POST", "/api/catalog/products", json=body, headers=staff_headers
    )
    assert status == 201
    status, product = await get_json(catalog, f"/api/catalog/products/{created['id']}")
    assert product["description"] == body["description"]


async def test_malformed_json_and_wrong_media_type(catalog: Catalog, staff_headers):
    headers = {**staff_headers, "Content-Type": "application/json"}
    status, kind, _ = await send(
        catalog, "POST", "/api/catalog/products", data=b"{not json", headers=headers
    )
    assert (status, kind) == (400, PROBLEM)
    status, kind, _ = await send(
        catalog, "POST", "/api/catalog/products", data=b"sku=x", headers=staff_headers
    )
    assert (status, kind) == (415, PROBLEM)
    status, kind, _ = await send(
        catalog, "POST", "/api/catalog/products", data=b"\xff\xfe", headers=headers
    )
    assert (status, kind) == (400, PROBLEM)


@pytest.mark.parametrize(
    "patch", [{}, {"name": None}, {"stock": "1"}, {"sku": "NEW"}, {"category": "nowhere"}]
)
async def test_bad_patches_are_422(catalog: Catalog, staff_headers, patch):
    product_id = await catalog.add_product("Бинт")
    status, kind, _ = await send(
        catalog, "PATCH", f"/api/catalog/products/{product_id}", json=patch, headers=staff_headers
    )
    assert (status, kind) == (422, PROBLEM)
    assert await catalog.stock(product_id) == 10


async def test_internal_products(catalog: Catalog):
    first = await catalog.add_product("Пластырь", stock=2, weight_g=30)
    second = await catalog.add_product("Бинт", stock=0)
    path = f"/internal/products?ids={first},{second},{uuid4()}"
    status, _ = await get_json(catalog, path)
    assert status == 403
    status, _ = await get_json(catalog, path, headers={"X-Internal-Token": "wrong"})
    assert status == 403
    status, body = await get_json(catalog, path, headers={"X-Internal-Token": INTERNAL_TOKEN})
    assert status == 200
    items = {item["id"]: item for item in body["items"]}
    assert set(items) == {str(first), str(second)}
    assert items[str(first)] == {
        "id": str(first),
        "sku": f"SKU-{first.hex[:12]}",
        "name": "Пластырь",
        "price": {"amount": 50_000, "currency": "KZT"},
        "regular_price": {"amount": 50_000, "currency": "KZT"},  # no promotion is live
        "promotion_id": None,
        "weight_g": 30,
        "in_stock": True,
        "available": 2,
    }
    assert items[str(second)]["in_stock"] is False
    for bad in ("", "nope", ",".join(str(uuid4()) for _ in range(201))):
        status, problem = await get_json(
            catalog, f"/internal/products?ids={bad}", headers={"X-Internal-Token": INTERNAL_TOKEN}
        )
        assert status == 422, problem
