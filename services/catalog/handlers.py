"""HTTP handlers of the catalog: parse, call storage, answer."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID

from aiohttp import web

from services.catalog import product_changes, promotion_storage, search_storage, storage, visits
from services.catalog.charts import HEADERS as CHART_HEADERS
from services.catalog.charts import chart_svg
from services.catalog.domain import (
    CategoryIn,
    ChartQuery,
    HitIn,
    ProductIn,
    ProductPatch,
    ReportQuery,
    internal_product_view,
    normalise_path,
    opted_out,
    product_view,
    report_document,
    suppressed,
)
from services.catalog.http_cache import (
    CATEGORIES_MAX_AGE_S,
    LIST_MAX_AGE_S,
    NO_STORE,
    PRODUCT_MAX_AGE_S,
    cached_json,
)
from services.catalog.keys import SETTINGS
from services.catalog.language import Lang, choose_lang
from services.catalog.promotions import (
    Promoted,
    best_price,
    promoted_prices,
    with_internal_price,
    with_promotion,
)
from services.catalog.search import ProductQuery, decode_cursor, encode_cursor
from services.catalog.visits import VISITS
from shared.auth import require_internal, require_role
from shared.db import PG_POOL, DbConn
from shared.http import Problem, json_response, query_model, read_json

CATALOG_MANAGER = "catalog_manager"
ANALYST = "analyst"
MAX_INTERNAL_IDS = 200


def _product_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["id"])
    except ValueError:
        raise _no_such_product() from None


def _no_such_product() -> Problem:
    return Problem(404, "Product not found", "There is no product with this id.")


def _unknown_category(slug: str) -> Problem:
    return Problem(422, "Unknown category", f"There is no category '{slug}'.")


async def _promoted(conn: DbConn, rows: list[Any]) -> dict[UUID, Promoted]:
    """The live promotions' prices of the products in ``rows`` (the price rule:
    services/catalog/promotions.py)."""
    if not rows:
        return {}
    regular = {row["id"]: row["price"] for row in rows}
    offers = await promotion_storage.live_offers(conn, list(regular), datetime.now(UTC))
    return promoted_prices(regular, offers)


# --- public reads ----------------------------------------------------------------------


def _lang(request: web.Request, lang_param: str | None) -> Lang:
    return choose_lang(lang_param, request.headers.get("Accept-Language"))


async def list_products(request: web.Request) -> web.Response:
    query = query_model(request, ProductQuery)
    after = decode_cursor(query.cursor, query.order) if query.cursor else None
    async with request.app[PG_POOL].acquire() as conn:
        rows, mode = await search_storage.search_products(conn, query, after, query.limit + 1)
    page = rows[: query.limit]
    promoted = promoted_prices(
        {r["id"]: r["price"] for r in page},
        {r["id"]: promotion_storage.offers_of(r) for r in page},
    )
    next_cursor = None
    if len(rows) > query.limit:
        last = page[-1]
        key = search_storage.sort_key(last, query.order)
        next_cursor = encode_cursor(query.order, key, last["id"], mode)
    lang = _lang(request, query.lang)
    items = [with_promotion(product_view(r, lang), promoted.get(r["id"])) for r in page]
    body = {"items": items, "next_cursor": next_cursor}
    return cached_json(request, body, max_age=LIST_MAX_AGE_S, lang=lang)


async def get_product(request: web.Request) -> web.Response:
    """Archived products too (old orders link to them), marked ``archived``."""
    product_id = _product_id(request)
    lang = _lang(request, _lang_param(request))
    async with request.app[PG_POOL].acquire() as conn:
        row, offers = await promotion_storage.product_with_offers(conn, product_id)
    if row is None:
        raise _no_such_product()
    view = with_promotion(product_view(row, lang), best_price(row["price"], offers))
    return cached_json(request, view, max_age=PRODUCT_MAX_AGE_S, lang=lang)


def _lang_param(request: web.Request) -> str | None:
    value = request.query.get("lang")
    if value is not None and value not in ("ru", "kk"):
        raise Problem(422, "Invalid language", "'lang' must be ru or kk.")
    return value


async def list_categories(request: web.Request) -> web.Response:
    """The tree as a list: each category with its parent's slug (null at the top)."""
    lang = _lang(request, _lang_param(request))
    async with request.app[PG_POOL].acquire() as conn:
        rows = await storage.list_categories(conn)
    items = [
        {
            "id": str(r["id"]),
            "slug": r["slug"],
            "name": r["name_kk"] if lang == "kk" and r["name_kk"] else r["name"],
            "parent": r["parent"],
            "products": r["product_count"],
        }
        for r in rows
    ]
    return cached_json(request, {"items": items}, max_age=CATEGORIES_MAX_AGE_S, lang=lang)


# --- staff writes ----------------------------------------------------------------------


async def create_category(request: web.Request) -> web.Response:
    require_role(request, CATALOG_MANAGER)
    body = await read_json(request, CategoryIn)
    async with request.app[PG_POOL].acquire() as conn:
        try:
            row = await storage.create_category(conn, body)
        except storage.UnknownCategory:
            raise _unknown_category(body.parent or "") from None
        except storage.DuplicateKey:
            raise Problem(409, "Category exists", f"Slug '{body.slug}' is taken.") from None
    answer = {
        "id": str(row["id"]),
        "slug": row["slug"],
        "name": row["name"],
        "name_kk": row["name_kk"],
        "parent": body.parent,
    }
    return json_response(answer, 201, headers=NO_STORE)


async def create_product(request: web.Request) -> web.Response:
    require_role(request, CATALOG_MANAGER)
    body = await read_json(request, ProductIn)
    threshold = request.app[SETTINGS].low_stock_threshold
    async with request.app[PG_POOL].acquire() as conn:
        try:
            product_id = await product_changes.create_product(conn, body, threshold)
        except storage.UnknownCategory:
            raise _unknown_category(body.category) from None
        except storage.DuplicateKey:
            raise Problem(409, "Product exists", f"SKU '{body.sku}' is taken.") from None
        row = await storage.get_product(conn, product_id)
    assert row is not None
    headers = {"Location": f"/api/catalog/products/{product_id}", **NO_STORE}
    return json_response(product_view(row), 201, headers=headers)


async def update_product(request: web.Request) -> web.Response:
    require_role(request, CATALOG_MANAGER)
    product_id = _product_id(request)
    body = await read_json(request, ProductPatch)
    async with request.app[PG_POOL].acquire() as conn:
        try:
            found = await product_changes.update_product(conn, product_id, body)
        except storage.UnknownCategory:
            raise _unknown_category(body.category or "") from None
        row = await storage.get_product(conn, product_id) if found else None
    if row is None:
        raise _no_such_product()
    return json_response(product_view(row), headers=NO_STORE)


async def archive_product(request: web.Request) -> web.Response:
    """``DELETE`` archives: the product leaves the listings and the carts, its page stays."""
    require_role(request, CATALOG_MANAGER)
    product_id = _product_id(request)
    async with request.app[PG_POOL].acquire() as conn:
        found = await product_changes.archive_product(conn, product_id)
        row = await storage.get_product(conn, product_id) if found else None
    if row is None:
        raise _no_such_product()
    return json_response(product_view(row), headers=NO_STORE)


# --- statistics ------------------------------------------------------------------------


async def record_hit(request: web.Request) -> web.Response:
    """The beacon. Keeps the page view coarse (``visits.record``); with Do Not Track or
    Global Privacy Control it keeps nothing at all."""
    body = await read_json(request, HitIn)
    path = normalise_path(body.path)
    if path is None:
        raise Problem(422, "Invalid path", "'path' must be a page path starting with '/'.")
    if opted_out(request.headers):
        return web.Response(status=204)
    await visits.record(request.app[VISITS], request, path, body.referrer)
    return web.Response(status=204)


async def _report_window(request: web.Request, model: type[ReportQuery]) -> tuple[Any, date, date]:
    require_role(request, ANALYST)
    query = query_model(request, model)
    start, end = query.window(request.app[VISITS].today())
    return query, start, end


def _window(start: date, end: date) -> dict[str, str]:
    return {"from": start.isoformat(), "to": end.isoformat()}


def _attribution(request: web.Request) -> dict[str, str]:
    text = request.app[SETTINGS].geoip_attribution
    return {"places_attribution": text} if text else {}


async def hits_report(request: web.Request) -> web.Response:
    _, start, end = await _report_window(request, ReportQuery)
    async with request.app[PG_POOL].acquire() as conn:
        days, counters, names = await visits.report(conn, start, end)
    document = report_document(days, counters, names)
    return json_response({**_window(start, end), **document, **_attribution(request)})


async def hits_chart(request: web.Request) -> web.Response:
    query, start, end = await _report_window(request, ChartQuery)
    async with request.app[PG_POOL].acquire() as conn:
        days, counters, names = await visits.report(conn, start, end)
    svg = chart_svg(
        query.dimension,
        start.isoformat(),
        end.isoformat(),
        days,
        counters,
        attribution=request.app[SETTINGS].geoip_attribution,
        names=names,
    )
    return web.Response(body=svg, content_type="image/svg+xml", headers=CHART_HEADERS)


async def hits_export(request: web.Request) -> web.Response:
    """For third parties (policy 4.4): the counters only, groups under k hits left out."""
    _, start, end = await _report_window(request, ReportQuery)
    k = request.app[SETTINGS].stats_export_min_hits
    async with request.app[PG_POOL].acquire() as conn:
        days, counters, names = await visits.report(conn, start, end)
    kept_days, kept, left_out = suppressed(days, counters, k)
    document = report_document(kept_days, kept, names)
    summary = {"min_hits": k, "groups_left_out": left_out}
    return json_response({**_window(start, end), **summary, **document, **_attribution(request)})


# --- internal --------------------------------------------------------------------------


def _ids_param(raw: str) -> list[UUID]:
    parts = [part.strip() for part in raw.split(",") if part.strip()]
    if not parts or len(parts) > MAX_INTERNAL_IDS:
        raise Problem(422, "Invalid ids", f"Send 1 to {MAX_INTERNAL_IDS} comma-separated ids.")
    try:
        return list(dict.fromkeys(UUID(part) for part in parts))
    except ValueError:
        raise Problem(422, "Invalid ids", "Every id must be a UUID.") from None


async def internal_products(request: web.Request) -> web.Response:
    require_internal(request, request.app[SETTINGS].internal_token.get_secret_value())
    ids = _ids_param(request.query.get("ids", ""))
    async with request.app[PG_POOL].acquire() as conn:
        rows = await storage.get_internal_products(conn, ids)
        promoted = await _promoted(conn, rows)
    items = [with_internal_price(internal_product_view(r), promoted.get(r["id"])) for r in rows]
    return json_response({"items": items})
