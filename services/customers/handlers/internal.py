"""Internal routes of the notifications service (internal token): a contact release, the
audience of a campaign or notice and its contact batches, a STOP received by SMS."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_internal
from shared.db import PG_POOL
from shared.http import Problem, json_response, query_model, read_json

from .. import audiences, opt_outs
from ..keys import ACCOUNTS, SETTINGS
from ..personal_data import now
from ..request_models import AudienceQuery, ContactBatchRequest, ReleaseRequest, SmsStop

NO_STORE = {"Cache-Control": "no-store"}


def _internal(request: web.Request) -> None:
    require_internal(request, request.app[SETTINGS].internal_token.get_secret_value())


async def post_release(request: web.Request) -> web.Response:
    require_internal(request, request.app[SETTINGS].internal_token.get_secret_value())
    body = await read_json(request, ReleaseRequest)
    if body.recipient.split(":", 1)[0] != "notifications":
        raise Problem(403, "Purpose not allowed", "Only notifications receive contact releases.")
    gate = request.app[ACCOUNTS].gate
    async with request.app[PG_POOL].acquire() as conn, gate.transaction(conn):
        release = await gate.release(
            conn,
            body.customer_id,
            purpose=body.purpose,
            kind=body.channel,
            recipient=body.recipient,
            actor=f"service:{body.recipient}",
            order_ref=body.order_ref,
            order_placed_at=body.order_placed_at,
            notice=body.notice,
        )
    return json_response(
        {"release_id": str(release.release_id), "locale": release.locale, "fields": release.fields},
        headers={"Cache-Control": "no-store"},
    )


async def get_audience(request: web.Request) -> web.Response:
    _internal(request)
    query = query_model(request, AudienceQuery)
    async with request.app[PG_POOL].acquire() as conn:
        size = await audiences.audience_size(conn, request.app[ACCOUNTS].gate, query)
    return json_response({"audience": size})


async def post_contact_batch(request: web.Request) -> web.Response:
    _internal(request)
    body = await read_json(request, ContactBatchRequest)
    async with request.app[PG_POOL].acquire() as conn:
        batch = await audiences.contact_batch(conn, request.app[ACCOUNTS].gate, body)
    return json_response(batch, headers=NO_STORE)


async def post_sms_stop(request: web.Request) -> web.Response:
    _internal(request)
    body = await read_json(request, SmsStop)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        withdrawn = await opt_outs.sms_stop(conn, request.app[ACCOUNTS].vault, body.phone, now())
    return json_response({"withdrawn": withdrawn})
