"""HTTP handlers: the internal export of what this service holds about a customer."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from services.notifications import storage
from services.notifications.keys import SETTINGS
from shared.auth import require_internal
from shared.db import PG_POOL
from shared.http import Problem, json_response


async def export_customer(request: web.Request) -> web.Response:
    """``GET /internal/customers/{customer_id}/export``: the delivery log of one customer."""
    require_internal(request, request.app[SETTINGS].internal_token.get_secret_value())
    customer_id = _customer_id(request)
    async with request.app[PG_POOL].acquire() as conn:
        items = await storage.deliveries_of(conn, customer_id)
    return json_response({"notifications": items})


def _customer_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["customer_id"])
    except ValueError:
        raise Problem(422, "Invalid customer id", "The customer id must be a UUID.") from None
