"""``DELETE /api/customers/me``: erase my account (the password again; 202 with the request)."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_customer
from shared.http import Problem, json_response, read_json

from .. import erasure
from ..accounts import BadCredentials
from ..keys import SETTINGS
from ..network import network_of
from ..request_models import ErasureRequestIn
from .auth import set_refresh_cookie


async def delete_me(request: web.Request) -> web.Response:
    """Accepted: ``completed``, ``in_progress`` (shredded, the other services confirming) or
    ``deferred`` (an order or refund still open; ``reason``, ``reason_text``,
    ``completes_when``). Every session ends at once either way."""
    customer_id = require_customer(request)
    body = await read_json(request, ErasureRequestIn)
    try:
        answer = await erasure.request_erasure(
            request.app, customer_id, body.password.get_secret_value(), network_of(request)
        )
    except BadCredentials:
        raise Problem(403, "Forbidden", "The password is wrong.") from None
    response = json_response(answer.body(), status=202, headers={"Cache-Control": "no-store"})
    set_refresh_cookie(response, request.app[SETTINGS], "")
    return response
