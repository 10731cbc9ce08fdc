"""The customer's requests under the law (``POST|GET /api/customers/me/requests``)."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_customer
from shared.db import PG_POOL
from shared.http import json_response, read_json

from .. import subject_requests
from ..keys import ACCOUNTS, SETTINGS
from ..request_models import SubjectRequestIn


async def post_request(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    body = await read_json(request, SubjectRequestIn)
    gate = request.app[ACCOUNTS].gate
    access_days = request.app[SETTINGS].access_request_working_days
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        filed = await subject_requests.file_for_customer(
            conn, gate, customer_id, body.kind, body.detail, access_days
        )
    return json_response(subject_requests.item(filed, body.detail), status=201)


async def get_requests(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    gate = request.app[ACCOUNTS].gate
    async with request.app[PG_POOL].acquire() as conn:
        filed = await subject_requests.for_customer(conn, customer_id)
        items = [
            subject_requests.item(one, await subject_requests.detail_of(conn, gate, one))
            for one in filed
        ]
    return json_response({"items": items}, headers={"Cache-Control": "no-store"})
