"""Visit statistics: counted per page and day, never tied to a person or an IP address."""

from __future__ import annotations

from typing import Any
from uuid import UUID, uuid4

import pytest

from services.catalog.domain import normalise_path, referrer_host
from shared.network import coarse_place
from tests.catalog.conftest import Catalog, bearer

HITS = "/api/stats/hits"


async def beacon(catalog: Catalog, body: Any, **headers: str) -> int:
    async with catalog.http.post(catalog.url + HITS, json=body, headers=headers) as response:
        return response.status


async def every_stored_text(catalog: Catalog) -> str:
    """Everything in every table of the catalog's schema, as one string."""
    tables = await catalog.pool.fetch("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    dumps = [str(await catalog.pool.fetch(f'SELECT * FROM "{t["tablename"]}"')) for t in tables]
    return "\n".join(dumps)


async def test_hits_store_no_customer_id_no_ip_and_no_query(catalog: Catalog, token_issuer):
    customer_id = uuid4()
    token = bearer(token_issuer.issue(customer_id, "customer"))["Authorization"]
    status = await beacon(
        catalog,
        {
            "path": "/catalog/vitamins?email=ivan@example.kz&phone=77011234567#top",
            "referrer": "https://www.google.kz/search?q=ivanov+ivan+address",
        },
        Authorization=token,
        **{"X-Forwarded-For": "203.0.113.77", "X-Real-IP": "203.0.113.77"},
        **{"X-Geo-City": "Almaty", "X-Geo-Region": "Almaty Region"},
    )
    assert status == 204
    assert await beacon(catalog, {"path": "/catalog/vitamins"}) == 204

    rows = await catalog.pool.fetch("SELECT * FROM page_hits ORDER BY city")
    assert [dict(r) | {"day": None} for r in rows] == [
        {"day": None, "path": "/catalog/vitamins", "referrer_host": "", "city": "",
         "region": "", "hits": 1},
        {"day": None, "path": "/catalog/vitamins", "referrer_host": "www.google.kz",
         "city": "Almaty", "region": "Almaty Region", "hits": 1},
    ]  # fmt: skip
    columns = {r["column_name"] for r in await catalog.pool.fetch(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'page_hits'"
    )}  # fmt: skip
    assert columns == {"day", "path", "referrer_host", "city", "region", "hits"}
    stored = await every_stored_text(catalog)
    for secret in (str(customer_id), "203.0.113", "ivan", "7701123"):
        assert secret not in stored


async def test_personal_looking_path_segments_are_not_kept(catalog: Catalog):
    # Ids full of digits: a UUID is an id, never mistaken for a phone number.
    order_id = UUID("12345678-1234-4234-8234-123456789012")
    product_id = UUID("98765432-1234-4234-8234-123456789012")
    for path in (
        f"/account/orders/{order_id}",
        "/search/ivan.petrov@mail.kz",
        "/callback/87011234567",
        f"/products/{product_id}",
    ):
        assert await beacon(catalog, {"path": path}) == 204
    paths = {r["path"] for r in await catalog.pool.fetch("SELECT path FROM page_hits")}
    assert paths == {
        "/account/orders/:id",
        "/search/:redacted",
        "/callback/:redacted",
        f"/products/{product_id}",
    }


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"path": "no-slash"},
        {"path": ""},
        {"path": "/x", "customer_id": str(uuid4())},
        {"path": "/x", "ip": "203.0.113.7"},
        {"path": 5},
        {"path": "/x\x00"},
        ["/x"],
    ],
)
async def test_bad_beacons_are_422(catalog: Catalog, body):
    assert await beacon(catalog, body) == 422
    assert await catalog.pool.fetchval("SELECT count(*) FROM page_hits") == 0


async def test_report_counts_per_path_per_day_for_analysts_only(
    catalog: Catalog, analyst_headers, staff_headers, customer_headers
):
    for path in ("/", "/", "/catalog", "/"):
        await beacon(catalog, {"path": path}, **{"X-Geo-City": "Астана"})
    await beacon(catalog, {"path": "/"}, **{"X-Geo-City": "Шымкент"})
    url = catalog.url + "/api/stats/report"
    async with catalog.http.get(url) as response:
        assert response.status == 401
    for headers in (staff_headers, customer_headers):
        async with catalog.http.get(url, headers=headers) as response:
            assert response.status == 403
    async with catalog.http.get(url, headers=analyst_headers) as response:
        assert response.status == 200
        report = await response.json()
    today = report["to"]
    assert report["items"] == [
        {"day": today, "path": "/", "hits": 4},
        {"day": today, "path": "/catalog", "hits": 1},
    ]
    async with catalog.http.get(url, params={"from": "2020-01-01", "to": "2020-01-31"},
                                headers=analyst_headers) as response:  # fmt: skip
        assert (await response.json())["items"] == []
    for params in ({"from": "yesterday"}, {"from": "2024-02-02", "to": "2024-02-01"}):
        async with catalog.http.get(url, params=params, headers=analyst_headers) as response:
            assert response.status == 422


def test_beacon_hygiene_helpers():
    assert normalise_path("https://shop.kz/a/b?x=1") == "/a/b"
    assert normalise_path("relative") is None
    assert referrer_host("javascript:alert(1)") == ""
    assert referrer_host("https://User:pw@Shop.KZ:8443/p?q") == "shop.kz"
    assert coarse_place("Усть-Каменогорск") == "Усть-Каменогорск"
    assert coarse_place("ул. Абая 10, кв 5") == ""
    assert coarse_place("x" * 65) == ""
