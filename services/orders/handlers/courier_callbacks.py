"""Courier callbacks: ``POST /api/fulfilment/{courier}/callbacks``, signed with
``shared.signing``; the event id is recorded with its effect, so a replay changes nothing."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from aiohttp import web

from shared.http import Problem, json_response
from shared.models import StrictBody

from ..fulfilment import DispatchWasCancelled, DoesNotApply, UnknownDispatch, apply_courier_report
from .common import app_settings, pool, signed_body


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
    _, body = await signed_body(request, _courier_secret(request, courier), CourierCallback)
    try:
        async with pool(request).acquire() as conn, conn.transaction():
            result = await apply_courier_report(
                conn, app_settings(request), courier, body.event_id, body.dispatch_id, body.status
            )
    except UnknownDispatch:
        raise Problem(404, "Unknown dispatch", "No such dispatch for this courier.") from None
    except DispatchWasCancelled:
        raise Problem(
            409, "Dispatch cancelled", "The order was cancelled: do not deliver it."
        ) from None
    except DoesNotApply as exc:
        raise Problem(409, "Status does not apply", str(exc)) from None
    return json_response({"result": result})
