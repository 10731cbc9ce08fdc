"""Internal routes (``X-Internal-Token``): a customer's orders and cart for their export."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_internal
from shared.http import json_response

from .. import storage
from ..workflow import order_documents
from .common import app_settings, path_uuid, pool


async def export_customer(request: web.Request) -> web.Response:
    require_internal(request, app_settings(request).internal_token.get_secret_value())
    customer_id = path_uuid(request, "customer_id")
    async with pool(request).acquire() as conn:
        rows = await storage.all_customer_orders(conn, customer_id)
        documents = await order_documents(conn, rows, app_settings(request).bank_public_url)
        cart_id = await storage.customer_cart(conn, customer_id)
        items = await storage.cart_items(conn, cart_id) if cart_id else []
    cart = [{"product_id": str(p), "quantity": q} for p, q in items]
    return json_response({"orders": documents, "cart": {"items": cart}})
