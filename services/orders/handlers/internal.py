"""Internal routes (``X-Internal-Token``): a customer's orders and cart for their export (read
in one snapshot, repeatable read, so the sections agree), the obligations still open that
defer their erasure, and the customer of an order for support's contact lookup in customers."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_internal
from shared.http import Problem, json_response

from .. import customer_orders, erasure, storage
from .common import app_settings, path_uuid, pool, products


async def export_customer(request: web.Request) -> web.Response:
    settings = app_settings(request)
    require_internal(request, settings.internal_token.get_secret_value())
    customer_id = path_uuid(request, "customer_id")
    async with (
        pool(request).acquire() as conn,
        conn.transaction(isolation="repeatable_read", readonly=True),
    ):
        document = await customer_orders.export(conn, customer_id, settings.bank_public_url)
    await customer_orders.name_cart_lines(document, lambda ids: products(request, ids))
    return json_response(document)


async def customer_obligations(request: web.Request) -> web.Response:
    """``{"open": [{kind, order_ref, status}]}``: orders in delivery and open refunds."""
    settings = app_settings(request)
    require_internal(request, settings.internal_token.get_secret_value())
    customer_id = path_uuid(request, "customer_id")
    async with pool(request).acquire() as conn:
        found = await erasure.open_obligations(conn, customer_id)
    return json_response({"open": [obligation.item() for obligation in found]})


async def order_customer(request: web.Request) -> web.Response:
    """Whose an order is and its status (ids and states only); 404 for an unknown order."""
    settings = app_settings(request)
    require_internal(request, settings.internal_token.get_secret_value())
    order_id = path_uuid(request, "order_id")
    async with pool(request).acquire() as conn:
        row = await storage.order_owner(conn, order_id)
    if row is None:
        raise Problem(404, "Not found", "No such order.")
    customer_id = row["customer_id"]
    return json_response(
        {
            "order_id": str(row["id"]),
            "order_ref": row["order_ref"],
            "customer_id": str(customer_id) if customer_id else None,
            "status": row["status"],
            "placed_at": row["created_at"].isoformat(),
            "updated_at": row["updated_at"].isoformat(),
        }
    )
