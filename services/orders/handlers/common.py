"""What every orders handler reads off a request: the pool, the settings, a path uuid, the
catalog's data for some products, and the signed body of a bank's or courier's callback."""

from __future__ import annotations

from collections.abc import Collection
from typing import TypeVar
from uuid import UUID

import asyncpg
from aiohttp import web

from shared.db import PG_POOL
from shared.http import Problem, read_json
from shared.models import StrictBody
from shared.service import HTTP_CLIENT
from shared.signing import SignatureError, verify

from ..catalog_client import fetch_products
from ..config import Settings
from ..domain import CatalogProduct
from ..keys import SETTINGS

Body = TypeVar("Body", bound=StrictBody)


def pool(request: web.Request) -> asyncpg.Pool:
    return request.app[PG_POOL]


def app_settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]


async def products(request: web.Request, ids: Collection[UUID]) -> dict[UUID, CatalogProduct]:
    """The catalog's data for ``ids`` (a 503 problem when the catalog cannot answer)."""
    config = app_settings(request)
    return await fetch_products(
        request.app[HTTP_CLIENT], config.catalog_url, config.internal_token.get_secret_value(), ids
    )


def path_uuid(request: web.Request, name: str) -> UUID:
    try:
        return UUID(request.match_info[name])
    except ValueError:
        raise Problem(404, "Not found", "No such resource.") from None


async def signed_body(request: web.Request, secret: str, model: type[Body]) -> tuple[bytes, Body]:
    """A callback's raw body and its model, once its signature and freshness hold (401 else)."""
    raw = await request.read()
    try:
        verify(secret, request.headers, raw, max_age_s=app_settings(request).callback_max_age_s)
    except SignatureError:
        raise Problem(401, "Bad signature", "The callback is unsigned, forged or stale.") from None
    return raw, await read_json(request, model)
