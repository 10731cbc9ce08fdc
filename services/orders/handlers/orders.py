"""A customer's orders: the list, one order, the cancel (``customer_orders`` does the work)."""

from __future__ import annotations

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import require_customer
from shared.http import Problem, json_response, query_model

from .. import customer_orders
from ..domain import Status, decode_cursor
from ..workflow import OrderNotFound
from .common import app_settings, path_uuid, pool


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


async def list_orders(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    query = query_model(request, ListQuery)
    after = decode_cursor(query.cursor) if query.cursor else None
    async with pool(request).acquire() as conn:
        page = await customer_orders.page_of_orders(conn, customer_id, query.limit, after)
    return json_response({"items": page.items, "next_cursor": page.next_cursor})


async def get_order(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    order_id = path_uuid(request, "order_id")
    bank_public_url = app_settings(request).bank_public_url
    async with pool(request).acquire() as conn:
        try:
            document = await customer_orders.one_order(conn, customer_id, order_id, bank_public_url)
        except OrderNotFound:
            raise Problem(404, "Not found", "No such order.") from None
    return json_response(document)


async def cancel_order(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    order_id = path_uuid(request, "order_id")
    try:
        async with pool(request).acquire() as conn, conn.transaction():
            order_ref = await customer_orders.cancel_order(
                conn, customer_id, order_id, app_settings(request)
            )
    except OrderNotFound:
        raise Problem(404, "Not found", "No such order.") from None
    except customer_orders.TooLateToCancel:
        raise Problem(
            409, "Too late to cancel", "The order is already with the courier or finished."
        ) from None
    return json_response(
        {"id": str(order_id), "status": Status.CANCELLED.value, "order_ref": order_ref}
    )
