"""The block page (``/account/block``): blocking and unblocking for real, through the same
use case as the API (``blocking.block`` / ``unblock``: the row, the event, the completed
request), and what a block means, said on the page. Thin handlers."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from shared.db import PG_POOL

from .. import blocking, storage, subject_requests
from ..keys import ACCOUNTS
from ..personal_data import CustomerUnavailable
from . import forms
from .context import actor, render, require_signed_in, see_other

PAGE = "/account/block"
DONE = {"block": "block.done", "unblock": "block.undone"}


async def _state(request: web.Request, customer_id: UUID) -> dict[str, Any]:
    """The customer's block state and their latest block or unblock request."""
    async with request.config_dict[PG_POOL].acquire() as conn:
        customer = await storage.get_customer(conn, customer_id)
        if customer is None or customer.status == "erased":
            raise CustomerUnavailable("unknown or erased customer")
        filed = await subject_requests.for_customer(conn, customer_id)
    latest = next((r for r in filed if r.kind in ("block", "unblock")), None)
    return {
        "blocked": customer.status == "blocked",
        "blocked_at": customer.blocked_at,
        "latest": latest,
    }


async def block_page(
    request: web.Request, *, status: int = 200, errors: forms.FieldErrors | None = None
) -> web.Response:
    customer_id = require_signed_in(request)
    done = DONE.get(request.query.get("done", ""))
    return render(
        request,
        "block.html",
        "block.title",
        status=status,
        done=done,
        errors=errors or {},
        **await _state(request, customer_id),
    )


async def block_save(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    form = await request.post()
    if not forms.checked(form, "confirm"):
        return await block_page(request, status=422, errors={"confirm": "block.confirm_required"})
    await _change(request, customer_id, blocking.block)
    return see_other(f"{PAGE}?done=block")


async def unblock_save(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    await request.post()  # the CSRF token was checked by the middleware
    await _change(request, customer_id, blocking.unblock)
    return see_other(f"{PAGE}?done=unblock")


async def _change(request: web.Request, customer_id: UUID, change: blocking.Change) -> None:
    gate = request.config_dict[ACCOUNTS].gate
    async with request.config_dict[PG_POOL].acquire() as conn, conn.transaction():
        await change(conn, gate, customer_id, by=actor(customer_id))


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/block", block_page)
    router.add_post("/block", block_save)
    router.add_post("/block/unblock", unblock_save)
