"""HTTP handlers of promotions: staff (catalog managers and marketers) list, create, read and
edit them; other services read one on the internal route. Parse, call, answer."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from aiohttp import web

from services.catalog import manage_promotions, promotion_storage
from services.catalog.keys import SETTINGS
from services.catalog.promotions import (
    PromotionConflict,
    PromotionIn,
    PromotionPatch,
    PromotionQuery,
    internal_promotion_view,
    promotion_view,
)
from shared import paging
from shared.auth import require_internal, require_role
from shared.db import PG_POOL
from shared.http import Problem, json_response, query_model, read_json

PROMOTION_ROLES = ("catalog_manager", "marketer")


def _now() -> datetime:
    return datetime.now(UTC)


def _promotion_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["id"])
    except ValueError:
        raise _not_found() from None


def _not_found() -> Problem:
    return Problem(404, "Promotion not found", "There is no promotion with this id.")


def _cursor(raw: str | None) -> tuple[datetime, UUID] | None:
    if raw is None:
        return None
    created_at, promotion_id = paging.decode_cursor(raw, 2)
    try:
        return datetime.fromisoformat(created_at), UUID(promotion_id)
    except ValueError:
        raise paging.BadCursor() from None


def _unknown_scope(exc: LookupError) -> Problem:
    if isinstance(exc, manage_promotions.UnknownCategory):
        return Problem(422, "Unknown category", "There is no category with this slug.")
    return Problem(422, "Unknown products", "Some of 'product_ids' are not in the catalogue.")


async def list_promotions(request: web.Request) -> web.Response:
    require_role(request, *PROMOTION_ROLES)
    query = query_model(request, PromotionQuery)
    now = _now()
    async with request.app[PG_POOL].acquire() as conn:
        rows = await promotion_storage.page(
            conn, now, status=query.status, after=_cursor(query.cursor), limit=query.limit + 1
        )
    page = rows[: query.limit]
    last = page[-1] if len(rows) > query.limit else None
    next_cursor = paging.encode_cursor(last.created_at.isoformat(), str(last.id)) if last else None
    items = [promotion_view(p, now) for p in page]
    return json_response({"items": items, "next_cursor": next_cursor})


async def create_promotion(request: web.Request) -> web.Response:
    staff = require_role(request, *PROMOTION_ROLES)
    body = await read_json(request, PromotionIn)
    now = _now()
    try:
        created = await manage_promotions.create(request.app[PG_POOL], body, staff.subject, now)
    except manage_promotions.PromotionOver:
        raise Problem(422, "Promotion over", "'ends_at' must be in the future.") from None
    except (manage_promotions.UnknownCategory, manage_promotions.UnknownProducts) as exc:
        raise _unknown_scope(exc) from None
    location = f"/api/catalog/promotions/{created.id}"
    return json_response(promotion_view(created, now), 201, headers={"Location": location})


async def get_promotion(request: web.Request) -> web.Response:
    require_role(request, *PROMOTION_ROLES)
    promotion_id = _promotion_id(request)
    async with request.app[PG_POOL].acquire() as conn:
        found = await promotion_storage.get(conn, promotion_id)
    if found is None:
        raise _not_found()
    return json_response(promotion_view(found, _now()))


async def update_promotion(request: web.Request) -> web.Response:
    require_role(request, *PROMOTION_ROLES)
    promotion_id = _promotion_id(request)
    patch = await read_json(request, PromotionPatch)
    now = _now()
    try:
        edited = await manage_promotions.edit(request.app[PG_POOL], promotion_id, patch, now)
    except PromotionConflict as exc:
        raise Problem(409, "Promotion cannot change", str(exc)) from None
    except (manage_promotions.UnknownCategory, manage_promotions.UnknownProducts) as exc:
        raise _unknown_scope(exc) from None
    except ValueError as exc:
        raise Problem(422, "Invalid promotion", str(exc)) from None
    if edited is None:
        raise _not_found()
    return json_response(promotion_view(edited, now))


async def internal_promotion(request: web.Request) -> web.Response:
    require_internal(request, request.app[SETTINGS].internal_token.get_secret_value())
    promotion_id = _promotion_id(request)
    async with request.app[PG_POOL].acquire() as conn:
        found = await promotion_storage.get(conn, promotion_id)
        products = await promotion_storage.covered_products(conn, found) if found else []
    if found is None:
        raise _not_found()
    return json_response(internal_promotion_view(found, _now(), products))
