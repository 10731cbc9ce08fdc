"""Visit statistics: a page view is kept coarse (day, masked page, product, referrer host, city
and region from the test City database, browser and system families) and never tied to a
person, an address or a User-Agent; reports for analysts, an export for third parties with
small groups left out, the daily roll-up and the retention of raw hits."""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from uuid import UUID, uuid4
from zoneinfo import ZoneInfo

import pytest

from services.catalog import retention
from services.catalog.config import Settings
from services.catalog.domain import family, normalise_path, product_of, referrer_host
from services.catalog.visits import Visits, rollup_sweep
from shared.network import coarse_place
from shared.retention import run_one
from tests.catalog.conftest import Catalog, MakeCatalog, bearer

HITS = "/api/stats/hits"
REPORT = "/api/stats/report"
CHROME_WINDOWS = (
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/131.0.0.0 Safari/537.36"
)
SAFARI_IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15"
    " (KHTML, like Gecko) Version/17.5 Mobile/15E148 Safari/604.1"
)
FIREFOX_LINUX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


async def beacon(catalog: Catalog, body: Any, **headers: str) -> int:
    async with catalog.http.post(catalog.url + HITS, json=body, headers=headers) as response:
        return response.status


def seen_from(address: str, user_agent: str = CHROME_WINDOWS, **more: str) -> dict[str, str]:
    """Headers of a visitor at ``address`` as the gateway (a trusted loopback peer) sends them."""
    return {"X-Forwarded-For": address, "User-Agent": user_agent, **more}


async def report(catalog: Catalog, headers: dict[str, str], path: str = REPORT, **params: str):
    async with catalog.http.get(catalog.url + path, params=params, headers=headers) as response:
        assert response.status == 200, await response.text()
        return await response.json()


def dump(dsn: str) -> str:
    """``pg_dump`` of the catalog's database as text, bytea values decoded too."""
    text = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", dsn], capture_output=True, text=True, check=True
    ).stdout
    decoded = [
        bytes.fromhex(value).decode("utf-8", "replace")
        for value in re.findall(r"\\\\x([0-9a-f]+)", text)
    ]
    return "\n".join([text, *decoded])


def today() -> date:
    return datetime.now(ZoneInfo("Asia/Almaty")).date()


def after_midnight(day: date, hours: float = 1) -> datetime:
    """``hours`` after the end of ``day`` in the statistics' time zone."""
    midnight = datetime.combine(day + timedelta(days=1), time(), ZoneInfo("Asia/Almaty"))
    return (midnight + timedelta(hours=hours)).astimezone(UTC)


async def test_a_page_view_keeps_place_and_families_and_nothing_personal(
    catalog: Catalog, token_issuer
):
    customer_id = uuid4()
    product_id = await catalog.add_product("Витамин C")
    token = bearer(token_issuer.issue(customer_id, "customer"))
    body = {
        "path": f"/products/{product_id}?email=ivan@example.kz&phone=77011234567#top",
        "referrer": "https://www.google.kz/search?q=ivanov+ivan+address",
    }
    headers = seen_from("95.56.201.77", **token, Cookie="shop_cart=c4f1a9e2")
    assert await beacon(catalog, body, **headers) == 204

    [row] = await catalog.pool.fetch("SELECT * FROM stats_hits")
    assert dict(row) == {
        "day": today(),
        "path": f"/products/{product_id}",
        "product_id": product_id,
        "referrer_host": "www.google.kz",
        "city": "Almaty",  # the database says "Almaty (Almaly Audany)": no district
        "region": "Almaty",
        "browser": "Chrome",
        "os": "Windows",
    }
    [visitor] = await catalog.pool.fetch("SELECT visitor FROM stats_visitors")
    assert len(visitor["visitor"]) == 16

    dumped = dump(catalog.settings.database_url)
    for secret in (
        str(customer_id),
        "95.56.201",
        "Mozilla",
        "Win64",
        "131.0",
        "c4f1a9e2",
        "ivan",
        "7701123",
        "43.25",  # the database's coordinates
        "Almaly",
    ):
        assert secret not in dumped, secret


async def test_places_come_from_the_city_database(catalog: Catalog, analyst_headers):
    for address in (
        "95.56.1.1",
        "95.56.200.9",
        "178.89.4.4",
        "2.134.77.1",
        "2a03:e2c0:5:6::1",
        "203.0.113.5",  # not in the database
    ):
        assert await beacon(catalog, {"path": "/"}, **seen_from(address)) == 204
    document = await report(catalog, analyst_headers)
    day = document["to"]
    assert document["cities"] == [
        {"day": day, "city": "Almaty", "region": "Almaty", "hits": 2},
        {"day": day, "city": "", "region": "", "hits": 1},
        {"day": day, "city": "Astana", "region": "Astana", "hits": 1},
        {"day": day, "city": "Karaganda", "region": "Karaganda Region", "hits": 1},
        {"day": day, "city": "Shymkent", "region": "Shymkent", "hits": 1},
    ]
    assert {r["region"]: r["hits"] for r in document["regions"]} == {
        "Almaty": 2,
        "Astana": 1,
        "Karaganda Region": 1,
        "Shymkent": 1,
        "": 1,
    }
    assert document["days"] == [{"day": day, "hits": 6, "visitors": 6}]


async def test_forwarded_for_counts_only_from_a_trusted_proxy(make_catalog: MakeCatalog):
    async with make_catalog() as catalog:  # loopback, the gateway, is trusted
        for chain in (
            "178.89.4.4, 95.56.1.1",  # the right-most untrusted hop: Almaty
            "95.56.1.1, 127.0.0.1",  # a trusted hop is skipped
            "95.56.1.1, not-an-address",  # garbled: the peer itself (loopback, no place)
            "178.89.4.4, 95.56.1.1:8080",
        ):
            await beacon(catalog, {"path": "/"}, **seen_from(chain))
        cities = [r["city"] for r in await catalog.pool.fetch("SELECT city FROM stats_hits")]
        assert sorted(cities) == ["", "", "Almaty", "Almaty"]
    async with make_catalog(trusted_proxies=()) as catalog:  # nobody: the peer is the client
        await beacon(catalog, {"path": "/"}, **seen_from("95.56.1.1"))
        assert await catalog.pool.fetchval("SELECT city FROM stats_hits") == ""


@pytest.mark.parametrize("opt_out", [{"DNT": "1"}, {"Sec-GPC": "1"}, {"DNT": " 1 "}])
async def test_do_not_track_and_global_privacy_control_record_nothing(
    catalog: Catalog, opt_out: dict[str, str]
):
    assert await beacon(catalog, {"path": "/catalog"}, **seen_from("95.56.1.1", **opt_out)) == 204
    for table in ("stats_hits", "stats_visitors", "stats_salts"):
        assert await catalog.pool.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    assert await beacon(catalog, {"path": "/catalog"}, DNT="0", **{"Sec-GPC": "0"}) == 204
    assert await catalog.pool.fetchval("SELECT count(*) FROM stats_hits") == 1


@pytest.mark.parametrize(
    ("user_agent", "families"),
    [
        (CHROME_WINDOWS, ("Chrome", "Windows")),
        (SAFARI_IPHONE, ("Mobile Safari", "iOS")),
        (FIREFOX_LINUX, ("Firefox", "Linux")),
        ("curl/8.5.0", ("curl", "Other")),
        ("", ("", "")),
        ("x" * 5000, ("Other", "Other")),
    ],
)
def test_browser_and_system_families(user_agent: str, families: tuple[str, str]):
    visits = Visits(Settings(database_url="postgresql://unused/x"), None, pool=None)  # no writes
    assert visits.families(user_agent) == families


def test_a_family_that_could_carry_a_name_is_other():
    assert family("Chrome Mobile WebView") == "Chrome Mobile WebView"
    assert family("ivan.petrov@mail.kz") == "Other"
    assert family("Bot87011234567") == "Other"
    assert family(None) == "Other"


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
    rows = await catalog.pool.fetch("SELECT path, product_id FROM stats_hits")
    assert {(r["path"], r["product_id"]) for r in rows} == {
        ("/account/orders/:id", None),
        ("/search/:redacted", None),
        ("/callback/:redacted", None),
        (f"/products/{product_id}", product_id),
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
    assert await catalog.pool.fetchval("SELECT count(*) FROM stats_hits") == 0


async def visit_the_shop(catalog: Catalog) -> UUID:
    """Six page views of three visitors (two of them twice)."""
    product_id = await catalog.add_product("Парацетамол")
    views = [
        ("/", None, seen_from("95.56.1.1")),
        (f"/products/{product_id}", "https://yandex.kz/x?q=1", seen_from("95.56.1.1")),
        (f"/products/{product_id}", "https://yandex.kz/", seen_from("178.89.4.4", SAFARI_IPHONE)),
        ("/catalog", None, seen_from("178.89.4.4", SAFARI_IPHONE)),
        ("/", "https://instagram.com/p/1", seen_from("2.134.7.7", FIREFOX_LINUX)),
        ("/", None, seen_from("2.134.7.7", FIREFOX_LINUX)),
    ]
    for path, referrer, headers in views:
        body = {"path": path} if referrer is None else {"path": path, "referrer": referrer}
        assert await beacon(catalog, body, **headers) == 204
    return product_id


def section(document: dict[str, Any], name: str, key: str) -> dict[str, int]:
    return {row[key]: row["hits"] for row in document[name]}


async def test_report_per_day_for_analysts_only(
    catalog: Catalog, analyst_headers, staff_headers, customer_headers
):
    product_id = await visit_the_shop(catalog)
    url = catalog.url + REPORT
    async with catalog.http.get(url) as response:
        assert response.status == 401
    for headers in (staff_headers, customer_headers):
        async with catalog.http.get(url, headers=headers) as response:
            assert response.status == 403

    document = await report(catalog, analyst_headers)
    day = document["to"]
    assert document["days"] == [{"day": day, "hits": 6, "visitors": 3}]
    assert section(document, "pages", "path") == {"/": 3, f"/products/{product_id}": 2,
                                                  "/catalog": 1}  # fmt: skip
    assert document["products"] == [
        {"day": day, "product_id": str(product_id), "name": "Парацетамол", "hits": 2}
    ]
    assert section(document, "referrers", "host") == {"": 3, "yandex.kz": 2, "instagram.com": 1}
    assert section(document, "cities", "city") == {"Almaty": 2, "Astana": 2, "Shymkent": 2}
    assert section(document, "regions", "region") == {"Almaty": 2, "Astana": 2, "Shymkent": 2}
    assert section(document, "browsers", "browser") == {
        "Chrome": 2,
        "Mobile Safari": 2,
        "Firefox": 2,
    }
    assert section(document, "os", "os") == {"Windows": 2, "iOS": 2, "Linux": 2}

    old = await report(catalog, analyst_headers, **{"from": "2020-01-01", "to": "2020-01-31"})
    assert old["days"] == [] and old["pages"] == [] and old["cities"] == []
    for params in ({"from": "yesterday"}, {"from": "2024-02-02", "to": "2024-02-01"},
                   {"to": "99999-01-01"}):  # fmt: skip
        async with catalog.http.get(url, params=params, headers=analyst_headers) as response:
            assert response.status == 422
            assert response.content_type == "application/problem+json"


async def test_an_ended_day_is_rolled_up_and_its_visitor_hashes_destroyed(
    catalog: Catalog, analyst_headers
):
    await visit_the_shop(catalog)
    before = await report(catalog, analyst_headers)
    sweep = rollup_sweep(catalog.settings)

    early = await run_one(catalog.pool, sweep, catalog.settings, now=after_midnight(today(), 0.1))
    assert early.count == 0  # 6 minutes after midnight: beacons may still be in flight
    assert await catalog.pool.fetchval("SELECT count(*) FROM stats_visitors") == 3

    run = await run_one(catalog.pool, sweep, catalog.settings, now=after_midnight(today()))
    assert run.count == 3
    for table in ("stats_visitors", "stats_salts"):
        assert await catalog.pool.fetchval(f"SELECT count(*) FROM {table}") == 0, table
    assert await report(catalog, analyst_headers) == before  # the counters say the same

    # The raw hits go after stats_raw_hits_days (7); the counters stay.
    [hits_rule] = [r for r in retention.RULES if r.kind == "stats_hits"]
    week = after_midnight(today() + timedelta(days=7))
    gone = await run_one(catalog.pool, hits_rule, catalog.settings, now=week)
    assert gone.count == 6
    assert await catalog.pool.fetchval("SELECT count(*) FROM stats_hits") == 0
    assert await report(catalog, analyst_headers) == before

    # After page_hits_detail_days (90) the referrer and city counters go too.
    [detail_rule] = [r for r in retention.RULES if r.kind == "stats_detail"]
    later = after_midnight(today() + timedelta(days=91))
    await run_one(catalog.pool, detail_rule, catalog.settings, now=later)
    after = await report(catalog, analyst_headers)
    assert after["referrers"] == [] and after["cities"] == []
    for kept in ("days", "pages", "products", "regions", "browsers", "os"):
        assert after[kept] == before[kept], kept


async def test_the_export_leaves_out_groups_of_fewer_than_k_hits(
    make_catalog: MakeCatalog, analyst_headers, customer_headers
):
    async with make_catalog(stats_export_min_hits=2) as catalog:
        product_id = await visit_the_shop(catalog)
        await beacon(catalog, {"path": "/rare"}, **seen_from("203.0.113.5", "curl/8.5.0"))
        async with catalog.http.get(catalog.url + "/api/stats/export",
                                    headers=customer_headers) as response:  # fmt: skip
            assert response.status == 403
        document = await report(catalog, analyst_headers, "/api/stats/export")
        full = await report(catalog, analyst_headers)
    assert document["min_hits"] == 2
    assert section(document, "pages", "path") == {"/": 3, f"/products/{product_id}": 2}
    assert section(full, "pages", "path")["/rare"] == 1  # the analyst's own report has all
    assert section(document, "cities", "city") == {"Almaty": 2, "Astana": 2, "Shymkent": 2}
    assert "curl" not in section(document, "browsers", "browser")
    assert document["days"][0]["hits"] == 7
    assert all(row["hits"] >= 2 for name in ("pages", "products", "referrers", "cities",
               "regions", "browsers", "os") for row in document[name])  # fmt: skip
    assert document["groups_left_out"] > 0


async def test_a_chart_of_the_report(catalog: Catalog, analyst_headers, customer_headers):
    await visit_the_shop(catalog)
    url = catalog.url + "/api/stats/report/chart"
    for dimension, expected in (("cities", "Almaty"), ("browsers", "Firefox"), ("days", "hits"),
                                ("products", "Парацетамол")):  # fmt: skip
        params = {"dimension": dimension}
        async with catalog.http.get(url, params=params, headers=analyst_headers) as response:
            assert response.status == 200
            assert response.content_type == "image/svg+xml"
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
            svg = await response.text()
        assert svg.lstrip().startswith("<?xml") and "<svg" in svg
        assert expected in svg, dimension
    async with catalog.http.get(url, headers=customer_headers) as response:
        assert response.status == 403
    async with catalog.http.get(url, params={"dimension": "ip"}, headers=analyst_headers) as r:
        assert r.status == 422


def test_beacon_hygiene_helpers():
    assert normalise_path("https://shop.kz/a/b?x=1") == "/a/b"
    assert normalise_path("relative") is None
    assert referrer_host("javascript:alert(1)") == ""
    assert referrer_host("https://User:pw@Shop.KZ:8443/p?q") == "shop.kz"
    assert product_of("/products/98765432-1234-4234-8234-123456789012/reviews") == UUID(
        "98765432-1234-4234-8234-123456789012"
    )
    assert product_of("/orders/98765432-1234-4234-8234-123456789012") is None
    assert coarse_place("Усть-Каменогорск") == "Усть-Каменогорск"
    assert coarse_place("ул. Абая 10, кв 5") == ""
    assert coarse_place("x" * 65) == ""
