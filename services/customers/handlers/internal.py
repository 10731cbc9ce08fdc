"""Internal routes: a contact release for the notifications service (internal token)."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_internal
from shared.db import PG_POOL
from shared.http import Problem, json_response, read_json

from ..keys import ACCOUNTS, SETTINGS
from ..request_models import ReleaseRequest


async def post_release(request: web.Request) -> web.Response:
    require_internal(request, request.app[SETTINGS].internal_token.get_secret_value())
    body = await read_json(request, ReleaseRequest)
    if body.recipient.split(":", 1)[0] != "notifications":
        raise Problem(403, "Purpose not allowed", "Only notifications receive contact releases.")
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        release = await request.app[ACCOUNTS].gate.release(
            conn,
            body.customer_id,
            purpose=body.purpose,
            kind=body.channel,
            recipient=body.recipient,
            actor=f"service:{body.recipient}",
            order_ref=body.order_ref,
            order_placed_at=body.order_placed_at,
        )
    return json_response(
        {"release_id": str(release.release_id), "locale": release.locale, "fields": release.fields},
        headers={"Cache-Control": "no-store"},
    )
