"""Internal routes (``X-Internal-Token``): a customer's orders and cart for their export, and
the obligations still open that defer their erasure."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_internal
from shared.http import json_response

from .. import customer_orders, erasure
from .common import app_settings, path_uuid, pool


async def export_customer(request: web.Request) -> web.Response:
    settings = app_settings(request)
    require_internal(request, settings.internal_token.get_secret_value())
    customer_id = path_uuid(request, "customer_id")
    async with pool(request).acquire() as conn:
        document = await customer_orders.export(conn, customer_id, settings.bank_public_url)
    return json_response(document)


async def customer_obligations(request: web.Request) -> web.Response:
    """``{"open": [{kind, order_ref, status}]}``: orders in delivery and open refunds."""
    settings = app_settings(request)
    require_internal(request, settings.internal_token.get_secret_value())
    customer_id = path_uuid(request, "customer_id")
    async with pool(request).acquire() as conn:
        found = await erasure.open_obligations(conn, customer_id)
    return json_response({"open": [obligation.item() for obligation in found]})
