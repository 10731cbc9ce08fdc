"""Product search as a shopper uses it: Russian morphology, typos, Kazakh words, the category
tree, filters, sorts, and paging that stays right while products are added."""

# Russian product names are full of Cyrillic letters that look like Latin ones.

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.catalog.search import Mode
from services.catalog.search_storage import RANKED
from tests.catalog.conftest import Catalog

PROBLEM = "application/problem+json"
LIST = "/api/catalog/products"


async def add(
    catalog: Catalog,
    name: str,
    *,
    name_kk: str | None = None,
    category: str = "misc",
    price: int = 50_000,
    stock: int = 10,
    description: str = "",
    created_at: datetime | None = None,
) -> UUID:
    product_id = uuid4()
    await catalog.pool.execute(
        "INSERT INTO products (id, sku, name, name_kk, description, category_id, price,"
        " weight_g, stock, created_at)"
        " SELECT $1, $2, $3, $4, $5, id, $6, 10, $7, $8 FROM categories WHERE slug = $9",
        product_id,
        f"SKU-{product_id.hex[:12]}",
        name,
        name_kk,
        description,
        price,
        stock,
        created_at or datetime.now(UTC),
        category,
    )
    return product_id


async def names(catalog: Catalog, **params: Any) -> list[str]:
    async with catalog.http.get(catalog.url + LIST, params=params) as response:
        assert response.status == 200, await response.text()
        return [item["name"] for item in (await response.json())["items"]]


async def walk(catalog: Catalog, params: dict[str, str], between=None) -> list[str]:
    """Every page of a listing; ``between(page_number)`` runs after each page."""
    seen: list[str] = []
    cursor = None
    page = 0
    while True:
        query = {**params, **({"cursor": cursor} if cursor else {})}
        async with catalog.http.get(catalog.url + LIST, params=query) as response:
            assert response.status == 200, await response.text()
            body = await response.json()
        seen += [item["name"] for item in body["items"]]
        cursor = body["next_cursor"]
        if cursor is None:
            return seen
        page += 1
        if between is not None:
            await between(page)


async def test_russian_morphology_finds_other_forms_of_a_word(catalog: Catalog):
    await add(catalog, "Таблетка для рассасывания Стрепсилс")
    await add(catalog, "Ибупрофен, таблетки 200 мг")
    await add(catalog, "Сироп от кашля")
    assert sorted(await names(catalog, q="таблетки")) == [
        "Ибупрофен, таблетки 200 мг",
        "Таблетка для рассасывания Стрепсилс",
    ]
    assert await names(catalog, q="сиропы") == ["Сироп от кашля"]


async def test_a_typo_still_finds_the_product_and_the_right_one_ranks_first(catalog: Catalog):
    await add(catalog, "Парацетамол 500 мг, 20 таблеток")
    await add(catalog, "Пантенол крем 5%")
    await add(catalog, "Смекта, 10 пакетиков")
    found = await names(catalog, q="парацитамол")
    assert found[0] == "Парацетамол 500 мг, 20 таблеток"
    assert "Смекта, 10 пакетиков" not in found
    assert await names(catalog, q="смекто")  == ["Смекта, 10 пакетиков"]  # fmt: skip


async def test_kazakh_words_and_word_forms_find_the_product(catalog: Catalog):
    await add(catalog, "Витамин С 1000 мг", name_kk="С дәрумені 1000 мг")
    await add(catalog, "Маска медицинская", name_kk="Медициналық бетперде")
    await add(catalog, "Бинт стерильный")
    assert await names(catalog, q="бетперде") == ["Маска медицинская"]
    # Kazakh has no stemmer in PostgreSQL: the bare stem finds the form with an ending.
    assert await names(catalog, q="дәрумен") == ["Витамин С 1000 мг"]
    assert await names(catalog, q="дәрумен", lang="kk") == ["С дәрумені 1000 мг"]


async def test_the_name_outranks_the_description(catalog: Catalog):
    await add(catalog, "Смекта", description="При диарее; не путать с Регидроном.")
    await add(catalog, "Регидрон, 20 пакетиков")
    assert await names(catalog, q="регидрон") == ["Регидрон, 20 пакетиков", "Смекта"]


async def test_a_category_filter_takes_in_its_subcategories(catalog: Catalog, staff_headers):
    for slug, parent in (("medicines", None), ("pain", "medicines"), ("kids-pain", "pain")):
        body = {"slug": slug, "name": slug.title(), **({"parent": parent} if parent else {})}
        async with catalog.http.post(
            catalog.url + "/api/catalog/categories", json=body, headers=staff_headers
        ) as response:
            assert response.status == 201
            assert response.headers["Cache-Control"] == "no-store"
    await add(catalog, "Аспирин", category="pain")
    await add(catalog, "Нурофен для детей", category="kids-pain")
    await add(catalog, "Бинт", category="misc")
    assert await names(catalog, category="medicines") == ["Аспирин", "Нурофен для детей"]
    assert await names(catalog, category="pain") == ["Аспирин", "Нурофен для детей"]
    assert await names(catalog, category="kids-pain") == ["Нурофен для детей"]
    async with catalog.http.get(catalog.url + "/api/catalog/categories") as response:
        tree = {c["slug"]: (c["parent"], c["products"]) for c in (await response.json())["items"]}
    assert tree == {
        "misc": (None, 1),
        "medicines": (None, 0),
        "pain": ("medicines", 1),
        "kids-pain": ("pain", 1),
    }
    body = {"slug": "orphan", "name": "Сирота", "parent": "nowhere"}
    async with catalog.http.post(
        catalog.url + "/api/catalog/categories", json=body, headers=staff_headers
    ) as response:
        assert (response.status, response.content_type) == (422, PROBLEM)


async def test_price_range_and_stock_filters(catalog: Catalog):
    await add(catalog, "Дешёвый", price=9_000)
    await add(catalog, "Средний", price=50_000, stock=0)
    await add(catalog, "Дорогой", price=459_000)
    assert await names(catalog, min_price="10000") == ["Дорогой", "Средний"]
    assert await names(catalog, max_price="50000") == ["Дешёвый", "Средний"]
    assert await names(catalog, min_price="50000", max_price="50000") == ["Средний"]
    assert await names(catalog, in_stock="true") == ["Дешёвый", "Дорогой"]
    assert await names(catalog, in_stock="false") == ["Средний"]


async def test_sorts_by_price_and_newness(catalog: Catalog):
    now = datetime.now(UTC)
    await add(catalog, "Б", price=300, created_at=now - timedelta(days=2))
    await add(catalog, "А", price=100, created_at=now - timedelta(days=1))
    await add(catalog, "В", price=200, created_at=now)
    assert await names(catalog, sort="price_asc") == ["А", "В", "Б"]
    assert await names(catalog, sort="price_desc") == ["Б", "В", "А"]
    assert await names(catalog, sort="newest") == ["В", "А", "Б"]
    assert await names(catalog) == ["А", "Б", "В"]  # by name without a query


@pytest.mark.parametrize(
    ("sort", "params"),
    [
        ("name", {}),
        ("price_asc", {"sort": "price_asc"}),
        ("price_desc", {"sort": "price_desc"}),
        ("newest", {"sort": "newest"}),
        ("relevance", {"q": "таблетки"}),
    ],
)
async def test_paging_sees_every_product_once_while_products_are_added(
    catalog: Catalog, sort, params
):
    """Keyset paging on (sort key, id): the products there when paging started come once
    each, in order, whatever is inserted between the pages (ties in price and rank too)."""
    start = datetime.now(UTC) - timedelta(hours=1)
    for i in range(23):
        await add(
            catalog,
            f"Таблетки {i:02d}" if i % 2 else f"Таблетка шипучая {i:02d}",
            price=1_000 * (i % 4),
            created_at=start + timedelta(minutes=i // 2),
        )
    before = await walk(catalog, {**params, "limit": "100"})
    assert len(before) == 23

    async def insert(page: int) -> None:
        for j in range(3):
            await add(catalog, f"Таблетки новые {page}-{j}", price=1_500, created_at=start)

    during = await walk(catalog, {**params, "limit": "4"}, between=insert)
    old = [name for name in during if "новые" not in name]
    assert old == before
    assert len(set(during)) == len(during)


@pytest.mark.parametrize(
    "params",
    [
        {"sort": "cheapest"},
        {"sort": "relevance"},  # no query to be relevant to
        {"min_price": "-1"},
        {"max_price": "1e999"},
        {"min_price": "500", "max_price": "100"},
        {"in_stock": "maybe"},
        {"lang": "en"},
    ],
)
async def test_bad_search_parameters_are_422_problems(catalog: Catalog, params):
    async with catalog.http.get(catalog.url + LIST, params=params) as response:
        assert (response.status, response.content_type) == (422, PROBLEM)
        text = await response.text()
    for key, value in params.items():
        if key != "sort":  # the sort's names are the API's own words
            assert f"={value}" not in text and f'"{value}"' not in text


async def test_a_cursor_of_another_sort_is_refused(catalog: Catalog):
    for i in range(3):
        await add(catalog, f"Бинт {i}", price=100 * i)
    async with catalog.http.get(catalog.url + LIST, params={"limit": "1"}) as response:
        cursor = (await response.json())["next_cursor"]
    params = {"limit": "1", "sort": "price_asc", "cursor": cursor}
    async with catalog.http.get(catalog.url + LIST, params=params) as response:
        assert response.status == 422
        assert (await response.json())["title"] == "Invalid cursor"


async def test_a_typo_search_keeps_its_mode_while_an_exact_match_is_added(catalog: Catalog):
    """The first page decides between exact and similar matches; the cursor keeps that, so a
    product spelt as the typo, added meanwhile, does not cut the pages short."""
    for i in range(5):
        await add(catalog, f"Парацетамол {100 * (i + 1)} мг")

    async def insert(page: int) -> None:
        await add(catalog, f"Парацитамол {page}")

    found = await walk(catalog, {"q": "парацитамол", "limit": "2"}, between=insert)
    assert sorted(name for name in found if name.startswith("Парацет")) == [
        f"Парацетамол {100 * (i + 1)} мг" for i in range(5)
    ]
    assert sorted(await names(catalog, q="парацитамол")) == ["Парацитамол 1", "Парацитамол 2"]


async def _add_many(catalog: Catalog, name: str, count: int) -> None:
    await catalog.pool.execute(
        "INSERT INTO products (id, sku, name, description, category_id, price, weight_g, stock)"
        " SELECT gen_random_uuid(), 'MANY-' || n, $1 || ' ' || n, '', c.id, 1000 + n, 10, 5"
        " FROM generate_series(1, $2) n, categories c WHERE c.slug = 'misc'",
        name,
        count,
    )


@pytest.mark.parametrize(
    ("q", "mode", "name"),
    [("таблетки", "exact", "Таблетки шипучие"), ("парацитамол", "fuzzy", "Парацетамол")],
)
async def test_relevance_ranks_at_most_the_candidate_cap_the_other_sorts_see_all(
    catalog: Catalog, q: str, mode: Mode, name: str
):
    """A query matching more products than ``RANKED[mode]`` lists that many by relevance
    (the first matches the index gives, ranked); sorted by name or price it lists them all."""
    cap = RANKED[mode]
    await _add_many(catalog, name, cap + 30)
    by_relevance = await walk(catalog, {"q": q, "limit": "100"})
    assert len(by_relevance) == len(set(by_relevance)) == cap
    by_name = await walk(catalog, {"q": q, "sort": "name", "limit": "100"})
    assert len(set(by_name)) == cap + 30
    assert set(by_relevance) <= set(by_name)
