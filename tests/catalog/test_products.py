"""A catalog manager's products: Kazakh text and its fallback, attributes and images, archiving,
the events each change sends, low-stock alerts, and HTTP caching of the public reads."""

# Russian product names are full of Cyrillic letters that look like Latin ones.

from __future__ import annotations

import json
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.catalog import messages
from shared.contracts import OrderCancelled
from tests.catalog.conftest import INTERNAL_TOKEN, Catalog, meta_for, order_placed
from tests.catalog.test_reservations import status_event

PROBLEM = "application/problem+json"
PRODUCTS = "/api/catalog/products"


def new_product(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "sku": f"PARA-{uuid4().hex[:8]}",
        "name": "Парацетамол 500 мг, 20 таблеток",
        "name_kk": "Парацетамол 500 мг, 20 таблетка",
        "description": "Жаропонижающее средство.",
        "description_kk": "Қызу түсіретін дәрі.",
        "category": "misc",
        "price": {"amount": 25_000, "currency": "KZT"},
        "weight_g": 20,
        "stock": 8,
        "images": ["https://cdn.apteka.kz/para-500.jpg"],
        "attributes": {
            "form": "tablets",
            "dosage": "500 мг",
            "pack_size": 20,
            "prescription_only": False,
        },
        "low_stock_threshold": 5,
    }
    body.update(overrides)
    return body


async def call(catalog: Catalog, method: str, path: str, **kwargs: Any):
    async with catalog.http.request(method, catalog.url + path, **kwargs) as response:
        text = await response.text()
        body = json.loads(text) if text else None
        return response.status, response.headers, body


async def create(catalog: Catalog, staff_headers, **overrides: Any) -> dict[str, Any]:
    status, headers, body = await call(
        catalog, "POST", PRODUCTS, json=new_product(**overrides), headers=staff_headers
    )
    assert status == 201, body
    assert headers["Cache-Control"] == "no-store"
    return body


async def events(pool: asyncpg.Pool, kind: str) -> list[dict[str, Any]]:
    rows = await pool.fetch("SELECT body FROM outbox WHERE message_type = $1 ORDER BY id", kind)
    return [json.loads(r["body"]) for r in rows]


async def test_the_text_follows_the_language_asked_for_with_russian_as_fallback(
    catalog: Catalog, staff_headers
):
    product = await create(catalog, staff_headers)
    path = f"{PRODUCTS}/{product['id']}"
    _, headers, ru = await call(catalog, "GET", path)
    assert (ru["name"], ru["lang"], headers["Content-Language"]) == (
        "Парацетамол 500 мг, 20 таблеток", "ru", "ru"
    )  # fmt: skip
    _, headers, kk = await call(
        catalog, "GET", path, headers={"Accept-Language": "kk-KZ, ru;q=0.5"}
    )
    assert (kk["name"], kk["description"], kk["lang"]) == (
        "Парацетамол 500 мг, 20 таблетка", "Қызу түсіретін дәрі.", "kk"
    )  # fmt: skip
    assert "Accept-Language" in headers["Vary"]
    _, _, by_param = await call(
        catalog, "GET", path + "?lang=ru", headers={"Accept-Language": "kk"}
    )
    assert by_param["lang"] == "ru"
    # Without Kazakh text the Russian is shown, and said to be Russian.
    russian_only = await create(catalog, staff_headers, name_kk=None, description_kk=None)
    _, _, fallback = await call(catalog, "GET", f"{PRODUCTS}/{russian_only['id']}?lang=kk")
    assert (fallback["name"], fallback["lang"]) == ("Парацетамол 500 мг, 20 таблеток", "ru")
    assert kk["attributes"] == {
        "form": "tablets",
        "dosage": "500 мг",
        "pack_size": 20,
        "prescription_only": False,
    }
    assert kk["images"] == ["https://cdn.apteka.kz/para-500.jpg"]


@pytest.mark.parametrize(
    "overrides",
    [
        {"images": ["http://cdn.apteka.kz/a.jpg"]},
        {"images": ["javascript:alert(1)//Парацетамол"]},
        {"images": "https://cdn.apteka.kz/a.jpg"},
        {"attributes": {"form": "elixir"}},
        {"attributes": {"pack_size": 0}},
        {"attributes": {"prescription_only": "no"}},
        {"attributes": {"dosage": "500 мг\u202e"}},
        {"attributes": {"colour": "red"}},
        {"name_kk": "Парацетамол\x1b[2J"},
        {"name_kk": ""},
        {"low_stock_threshold": -1},
    ],
)
async def test_bad_attributes_images_and_kazakh_text_are_422(
    catalog: Catalog, staff_headers, overrides
):
    status, headers, problem = await call(
        catalog, "POST", PRODUCTS, json=new_product(**overrides), headers=staff_headers
    )
    assert status == 422 and headers["Content-Type"].startswith(PROBLEM)
    assert "Парацетамол" not in json.dumps(problem, ensure_ascii=False)
    assert "apteka" not in json.dumps(problem)


async def test_archived_products_leave_listings_and_carts_but_stay_readable(
    catalog: Catalog, staff_headers, customer_headers
):
    product = await create(catalog, staff_headers)
    path = f"{PRODUCTS}/{product['id']}"
    status, _, _ = await call(catalog, "DELETE", path, headers=customer_headers)
    assert status == 403
    status, headers, archived = await call(catalog, "DELETE", path, headers=staff_headers)
    assert status == 200 and archived["archived"] is True
    assert (archived["in_stock"], archived["available"]) == (False, 0)
    assert headers["Cache-Control"] == "no-store"
    status, _, again = await call(catalog, "DELETE", path, headers=staff_headers)
    assert status == 200 and again == archived  # archiving twice changes nothing

    status, _, page = await call(catalog, "GET", PRODUCTS, params={"q": "парацетамол"})
    assert page["items"] == []
    status, _, shown = await call(catalog, "GET", path)
    assert status == 200 and shown["archived"] is True and shown["name"] == product["name"]
    # Orders prices a cart through the internal look-up: an archived product is not there,
    # so it cannot be added or bought (orders answers it as an unknown product).
    status, _, internal = await call(
        catalog,
        "GET",
        f"/internal/products?ids={product['id']}",
        headers={"X-Internal-Token": INTERNAL_TOKEN},
    )
    assert internal == {"items": []}
    # An order that was priced before the archiving reserves nothing.
    archived_id = UUID(archived["id"])
    placed = order_placed((archived_id, 1))
    async with catalog.pool.acquire() as conn, conn.transaction():
        await messages.on_order_placed(conn, placed, meta_for(placed))
    [rejected] = await events(catalog.pool, "catalog.reservation.rejected")
    assert rejected["reason"] == "unknown_product"
    assert rejected["product_ids"] == [str(archived_id)]
    [event] = await events(catalog.pool, "catalog.product.archived")
    assert event["product_id"] == product["id"]
    status, _, _ = await call(catalog, "DELETE", f"{PRODUCTS}/{uuid4()}", headers=staff_headers)
    assert status == 404


async def test_a_patch_that_changes_no_column_answers_the_product(catalog: Catalog, staff_headers):
    """It was a 500 (an empty SET list; schemathesis found it)."""
    product = await create(catalog, staff_headers)
    path = f"{PRODUCTS}/{product['id']}"
    status, _, same = await call(
        catalog, "PATCH", path, json={"attributes": {}}, headers=staff_headers
    )
    assert status == 200 and same["price"] == product["price"]


async def test_every_change_is_an_event_with_product_facts_only(catalog: Catalog, staff_headers):
    product = await create(catalog, staff_headers)
    path = f"{PRODUCTS}/{product['id']}"
    patch = {"price": {"amount": 27_000, "currency": "KZT"}, "name_kk": None}
    status, headers, patched = await call(catalog, "PATCH", path, json=patch, headers=staff_headers)
    assert status == 200 and headers["Cache-Control"] == "no-store"
    assert patched["price"]["amount"] == 27_000
    await call(catalog, "DELETE", path, headers=staff_headers)

    [created] = await events(catalog.pool, "catalog.product.created")
    [changed] = await events(catalog.pool, "catalog.product.changed")
    [archived] = await events(catalog.pool, "catalog.product.archived")
    assert {k: created[k] for k in ("product_id", "sku", "category", "price", "version")} == {
        "product_id": product["id"],
        "sku": product["sku"],
        "category": "misc",
        "price": {"amount": 25_000, "currency": "KZT"},
        "version": 1,
    }
    assert (changed["fields"], changed["version"]) == (["name_kk", "price"], 2)
    assert archived["version"] == 3
    # Facts about the product, nothing about who changed it (a staff member is a person).
    assert set(changed) == {"product_id", "fields", "version", "at"}
    assert set(archived) == {"product_id", "version", "at"}


async def test_low_stock_alerts_once_below_and_again_only_after_a_refill(
    catalog: Catalog, staff_headers
):
    product = await create(catalog, staff_headers, stock=6, low_stock_threshold=5)
    path = f"{PRODUCTS}/{product['id']}"
    product_id = UUID(product["id"])

    async def reserve(quantity: int):
        placed = order_placed((product_id, quantity))
        async with catalog.pool.acquire() as conn, conn.transaction():
            await messages.on_order_placed(conn, placed, meta_for(placed))
        return placed

    await reserve(1)  # 5 left: at the threshold, not below
    assert await events(catalog.pool, "catalog.stock.low") == []
    first = await reserve(1)  # 4 left: below
    await reserve(1)  # 3 left: still below, no second alert
    [alert] = await events(catalog.pool, "catalog.stock.low")
    assert (alert["product_id"], alert["stock"], alert["threshold"]) == (product["id"], 4, 5)

    cancelled = status_event(OrderCancelled, first.order_id)
    async with catalog.pool.acquire() as conn, conn.transaction():
        await messages.on_order_undelivered(conn, cancelled, meta_for(cancelled))
    assert len(await events(catalog.pool, "catalog.stock.low")) == 1  # 4: still below

    await call(catalog, "PATCH", path, json={"stock": 20}, headers=staff_headers)  # refilled
    await call(catalog, "PATCH", path, json={"stock": 2}, headers=staff_headers)  # below again
    alerts = await events(catalog.pool, "catalog.stock.low")
    assert [a["stock"] for a in alerts] == [4, 2]


async def test_public_reads_carry_an_etag_and_answer_304_until_the_product_changes(
    catalog: Catalog, staff_headers
):
    product = await create(catalog, staff_headers)
    path = f"{PRODUCTS}/{product['id']}"
    status, headers, _ = await call(catalog, "GET", path)
    etag = headers["ETag"]
    assert status == 200 and etag.startswith('"')
    assert headers["Cache-Control"] == "public, max-age=300"
    status, headers, body = await call(catalog, "GET", path, headers={"If-None-Match": etag})
    assert (status, body, headers["ETag"]) == (304, None, etag)
    status, _, _ = await call(catalog, "GET", path, headers={"If-None-Match": f"W/{etag}"})
    assert status == 304
    status, _, _ = await call(catalog, "GET", path, headers={"If-None-Match": f'"other", {etag}'})
    assert status == 304
    status, _, _ = await call(catalog, "GET", path, headers={"If-None-Match": "*"})
    assert status == 304
    # Another language is another representation.
    status, kk_headers, _ = await call(
        catalog, "GET", path + "?lang=kk", headers={"If-None-Match": etag}
    )
    assert status == 200 and kk_headers["ETag"] != etag

    status, list_headers, _ = await call(catalog, "GET", PRODUCTS)
    assert list_headers["Cache-Control"] == "public, max-age=30"
    status, _, _ = await call(
        catalog, "GET", PRODUCTS, headers={"If-None-Match": list_headers["ETag"]}
    )
    assert status == 304
    status, cat_headers, _ = await call(catalog, "GET", "/api/catalog/categories")
    status, _, _ = await call(
        catalog, "GET", "/api/catalog/categories", headers={"If-None-Match": cat_headers["ETag"]}
    )
    assert status == 304

    # A stock move (a reservation) changes what the page shows: a new ETag.
    placed = order_placed((UUID(product["id"]), 8))
    async with catalog.pool.acquire() as conn, conn.transaction():
        await messages.on_order_placed(conn, placed, meta_for(placed))
    status, headers, now = await call(catalog, "GET", path, headers={"If-None-Match": etag})
    assert status == 200 and now["in_stock"] is False and headers["ETag"] != etag
    status, _, _ = await call(
        catalog, "GET", PRODUCTS, headers={"If-None-Match": list_headers["ETag"]}
    )
    assert status == 200
