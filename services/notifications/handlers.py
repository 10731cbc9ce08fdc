"""HTTP handlers: the internal export of what this service holds about a customer, and the
erasure's confirmation customers hands over before it shreds."""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from services.notifications import erasure_confirmation, storage
from services.notifications.keys import NOTIFIER, SETTINGS
from services.notifications.mailer import MailUnavailable
from shared.auth import require_internal
from shared.db import PG_POOL
from shared.http import Problem, json_response, read_json


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


async def post_erasure_confirmation(request: web.Request) -> web.Response:
    """``POST /internal/erasure-confirmations``: the mail goes now (``erasure_confirmation``)."""
    require_internal(request, request.app[SETTINGS].internal_token.get_secret_value())
    body = await read_json(request, erasure_confirmation.ErasureConfirmation)
    try:
        outcome = await erasure_confirmation.send(request.app[NOTIFIER], body)
    except MailUnavailable:
        raise Problem(503, "Mail unavailable", "The mail server cannot take it now.") from None
    return json_response({"status": outcome.status or "already_sent"})
