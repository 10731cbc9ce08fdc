"""Courier callbacks: ``POST /api/fulfilment/{courier}/callbacks``, signed with
``shared.signing``; the event id is recorded with its effect, so a replay changes nothing."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from aiohttp import web

from shared.db import DbConn
from shared.http import Problem, json_response, read_json
from shared.models import StrictBody
from shared.signing import SignatureError, verify

from .. import storage
from ..config import Settings
from ..domain import IllegalTransition, Status, Trigger
from ..workflow import apply_trigger
from .common import app_settings, pool


class CourierCallback(StrictBody):
    event_id: UUID
    dispatch_id: UUID
    status: Literal["delivered", "failed"]


def _courier_secret(request: web.Request, courier: str) -> str:
    settings = app_settings(request)
    secret = settings.courier_secrets.get(courier)
    if courier not in settings.couriers or secret is None:
        raise Problem(404, "Unknown courier", "No such courier.")
    return secret.get_secret_value()


async def courier_callback(request: web.Request) -> web.Response:
    courier = request.match_info["courier"]
    secret = _courier_secret(request, courier)
    raw = await request.read()
    try:
        verify(secret, request.headers, raw, max_age_s=app_settings(request).callback_max_age_s)
    except SignatureError:
        raise Problem(401, "Bad signature", "The callback is unsigned, forged or stale.") from None
    body = await read_json(request, CourierCallback)
    async with pool(request).acquire() as conn, conn.transaction():
        result = await _apply_callback(conn, courier, body, app_settings(request))
    return json_response({"result": result})


async def _apply_callback(
    conn: DbConn, courier: str, body: CourierCallback, settings: Settings
) -> str:
    dispatch = await storage.get_dispatch(conn, body.dispatch_id)
    if dispatch is None or dispatch["courier"] != courier:
        raise Problem(404, "Unknown dispatch", "No such dispatch for this courier.")
    if not await storage.record_courier_callback(
        conn, courier, body.event_id, body.dispatch_id, body.status
    ):
        return "duplicate"
    trigger = Trigger.COURIER_DELIVERED if body.status == "delivered" else Trigger.COURIER_FAILED
    try:
        await apply_trigger(conn, dispatch["order_id"], trigger, settings)
    except IllegalTransition as exc:
        if exc.status.value == body.status:
            return "duplicate"
        if exc.status is Status.CANCELLED:
            raise Problem(
                409, "Dispatch cancelled", "The order was cancelled: do not deliver it."
            ) from None
        raise Problem(
            409, "Status does not apply", f"The order is {exc.status.value}; not changed."
        ) from None
    await storage.set_dispatch_status(conn, body.dispatch_id, body.status)
    return "applied"
