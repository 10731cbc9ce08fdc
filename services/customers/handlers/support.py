"""Support's contact lookup: ``POST /api/customers/support/contact-lookups`` (role support).
The use case is ``services.customers.support``; its refusals are mapped in ``errors.py``."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_role
from shared.db import PG_POOL
from shared.http import json_response, read_json
from shared.service import HTTP_CLIENT

from .. import support
from ..keys import ACCOUNTS, SETTINGS
from ..request_models import ContactLookup


async def post_contact_lookup(request: web.Request) -> web.Response:
    staff = require_role(request, "support")
    body = await read_json(request, ContactLookup)
    settings = request.app[SETTINGS]
    order = await support.order_owner(
        request.app[HTTP_CLIENT],
        settings.orders_url,
        settings.internal_token.get_secret_value(),
        body.order_id,
    )
    gate = request.app[ACCOUNTS].gate
    async with request.app[PG_POOL].acquire() as conn, gate.transaction(conn):
        found = await support.contact_lookup(
            conn,
            gate,
            staff_id=staff.subject,
            order=order,
            reason=body.reason,
            window_days=settings.support_window_days,
        )
    fields = found.release.fields
    return json_response(
        {
            "release_id": str(found.release.release_id),
            "order_id": str(found.order.order_id),
            "order_ref": found.order.order_ref,
            "reason": body.reason,
            "contact": {"name": fields["recipient_name"], "phone": fields["phone"]},
            "locale": found.release.locale,
        },
        status=201,
        headers={"Cache-Control": "no-store"},
    )
