"""A customer's orders: the list, one order, the cancel."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import require_customer
from shared.db import DbConn
from shared.http import Problem, json_response, query_model

from .. import storage
from ..config import Settings
from ..domain import Cursor, IllegalTransition, Status, Trigger, decode_cursor, encode_cursor
from ..workflow import apply_trigger, order_documents, order_summary
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
        rows = await storage.customer_orders(conn, customer_id, query.limit + 1, after)
    page, more = rows[: query.limit], len(rows) > query.limit
    next_cursor = encode_cursor(Cursor(page[-1]["created_at"], page[-1]["id"])) if more else None
    return json_response({"items": [order_summary(r) for r in page], "next_cursor": next_cursor})


async def get_order(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    order_id = path_uuid(request, "order_id")
    async with pool(request).acquire() as conn:
        row = await storage.customer_order(conn, customer_id, order_id)
        if row is None:
            raise Problem(404, "Not found", "No such order.")
        documents = await order_documents(conn, [row], app_settings(request).bank_public_url)
    return json_response(documents[0])


async def cancel_order(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    order_id = path_uuid(request, "order_id")
    async with pool(request).acquire() as conn, conn.transaction():
        row = await storage.customer_order(conn, customer_id, order_id)
        if row is None:
            raise Problem(404, "Not found", "No such order.")
        if row["status"] != Status.CANCELLED.value:
            await _cancel(conn, order_id, app_settings(request))
    return json_response(
        {"id": str(order_id), "status": Status.CANCELLED.value, "order_ref": row["order_ref"]}
    )


async def _cancel(conn: DbConn, order_id: UUID, settings: Settings) -> None:
    """Placed, awaiting payment or paid: cancelled (a requested dispatch is cancelled with
    the courier, a paid card order refunded). Dispatched or finished: 409."""
    try:
        await apply_trigger(conn, order_id, Trigger.CUSTOMER_CANCELLED, settings)
    except IllegalTransition as exc:
        if exc.status is Status.CANCELLED:  # a concurrent cancel came first
            return
        raise Problem(
            409, "Too late to cancel", "The order is already with the courier or finished."
        ) from None
