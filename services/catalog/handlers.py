"""HTTP handlers of the catalog: parse, call storage, answer."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from aiohttp import web

from services.catalog import promotion_storage, storage
from services.catalog.domain import (
    CategoryIn,
    HitIn,
    ProductIn,
    ProductPatch,
    ProductQuery,
    ReportQuery,
    decode_cursor,
    encode_cursor,
    internal_product_view,
    normalise_path,
    product_view,
    referrer_host,
)
from services.catalog.keys import SETTINGS
from services.catalog.promotions import (
    Promoted,
    promoted_prices,
    with_internal_price,
    with_promotion,
)
from shared.auth import require_internal, require_role
from shared.db import PG_POOL, DbConn
from shared.http import Problem, json_response, query_model, read_json
from shared.network import coarse_place

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


async def list_products(request: web.Request) -> web.Response:
    query = query_model(request, ProductQuery)
    after = decode_cursor(query.cursor) if query.cursor else None
    async with request.app[PG_POOL].acquire() as conn:
        rows = await storage.list_products(
            conn, q=query.q, category=query.category, after=after, limit=query.limit + 1
        )
        page = rows[: query.limit]
        promoted = await _promoted(conn, page)
    more = len(rows) > query.limit
    next_cursor = encode_cursor(page[-1]["name"], page[-1]["id"]) if more else None
    items = [with_promotion(product_view(r), promoted.get(r["id"])) for r in page]
    return json_response({"items": items, "next_cursor": next_cursor})


async def get_product(request: web.Request) -> web.Response:
    product_id = _product_id(request)
    async with request.app[PG_POOL].acquire() as conn:
        row = await storage.get_product(conn, product_id)
        promoted = await _promoted(conn, [row] if row else [])
    if row is None:
        raise _no_such_product()
    return json_response(with_promotion(product_view(row), promoted.get(product_id)))


async def list_categories(request: web.Request) -> web.Response:
    async with request.app[PG_POOL].acquire() as conn:
        rows = await storage.list_categories(conn)
    items = [
        {"id": str(r["id"]), "slug": r["slug"], "name": r["name"], "products": r["product_count"]}
        for r in rows
    ]
    return json_response({"items": items})


# --- staff writes ----------------------------------------------------------------------


async def create_category(request: web.Request) -> web.Response:
    require_role(request, CATALOG_MANAGER)
    body = await read_json(request, CategoryIn)
    async with request.app[PG_POOL].acquire() as conn:
        try:
            row = await storage.create_category(conn, body)
        except storage.DuplicateKey:
            raise Problem(409, "Category exists", f"Slug '{body.slug}' is taken.") from None
    return json_response({"id": str(row["id"]), "slug": row["slug"], "name": row["name"]}, 201)


async def create_product(request: web.Request) -> web.Response:
    require_role(request, CATALOG_MANAGER)
    body = await read_json(request, ProductIn)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        try:
            product_id = await storage.create_product(conn, body)
        except storage.UnknownCategory:
            raise _unknown_category(body.category) from None
        except storage.DuplicateKey:
            raise Problem(409, "Product exists", f"SKU '{body.sku}' is taken.") from None
        row = await storage.get_product(conn, product_id)
    assert row is not None
    location = f"/api/catalog/products/{product_id}"
    return json_response(product_view(row), 201, headers={"Location": location})


async def update_product(request: web.Request) -> web.Response:
    require_role(request, CATALOG_MANAGER)
    product_id = _product_id(request)
    body = await read_json(request, ProductPatch)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        try:
            found = await storage.update_product(conn, product_id, body.changes())
        except storage.UnknownCategory:
            raise _unknown_category(body.category or "") from None
        row = await storage.get_product(conn, product_id) if found else None
    if row is None:
        raise _no_such_product()
    return json_response(product_view(row))


# --- statistics ------------------------------------------------------------------------


def _today(request: web.Request) -> datetime:
    return datetime.now(ZoneInfo(request.app[SETTINGS].stats_timezone))


async def record_hit(request: web.Request) -> web.Response:
    """The beacon. Counts the page for the day; never reads who sent it or from which IP."""
    body = await read_json(request, HitIn)
    path = normalise_path(body.path)
    if path is None:
        raise Problem(422, "Invalid path", "'path' must be a page path starting with '/'.")
    async with request.app[PG_POOL].acquire() as conn:
        await storage.count_hit(
            conn,
            day=_today(request).date(),
            path=path,
            referrer_host=referrer_host(body.referrer),
            city=coarse_place(request.headers.get("X-Geo-City")),
            region=coarse_place(request.headers.get("X-Geo-Region")),
        )
    return web.Response(status=204)


async def hits_report(request: web.Request) -> web.Response:
    require_role(request, ANALYST)
    start, end = query_model(request, ReportQuery).window(_today(request).date())
    async with request.app[PG_POOL].acquire() as conn:
        rows = await storage.hits_report(conn, start, end)
    items = [{"day": r["day"].isoformat(), "path": r["path"], "hits": r["hits"]} for r in rows]
    return json_response({"from": start.isoformat(), "to": end.isoformat(), "items": items})


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
