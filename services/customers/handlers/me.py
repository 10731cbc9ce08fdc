"""The signed-in customer's own data: profile, disclosures, consents, the export."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_customer
from shared.db import PG_POOL
from shared.http import json_response, read_json

from .. import storage
from ..export import disclosure_item, export_document
from ..keys import ACCOUNTS
from ..request_models import ConsentsUpdate, ProfilePatch


async def get_me(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        profile = await request.app[ACCOUNTS].profile(conn, customer_id, f"customer:{customer_id}")
    return json_response(profile, headers={"Cache-Control": "no-store"})


async def patch_me(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    body = await read_json(request, ProfilePatch)
    accounts = request.app[ACCOUNTS]
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        await accounts.require_current_policy(conn, customer_id)
        await accounts.patch_profile(conn, customer_id, body)
        profile = await accounts.profile(conn, customer_id, f"customer:{customer_id}")
    return json_response(profile, headers={"Cache-Control": "no-store"})


async def get_disclosures(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    async with request.app[PG_POOL].acquire() as conn:
        rows = await storage.disclosures(conn, customer_id)
    return json_response({"items": [disclosure_item(row) for row in rows]})


async def get_consents(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    async with request.app[PG_POOL].acquire() as conn:
        consents = await request.app[ACCOUNTS].consents(conn, customer_id)
    return json_response(consents)


async def put_consents(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    body = await read_json(request, ConsentsUpdate)
    accounts = request.app[ACCOUNTS]
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        if body.grants():  # withdrawing is always possible
            await accounts.require_current_policy(conn, customer_id)
        if body.marketing is not None:
            await accounts.set_marketing(conn, customer_id, body.marketing)
        if body.cross_border_transfer is not None:
            await accounts.set_cross_border(conn, customer_id, body.cross_border_transfer)
        consents = await accounts.consents(conn, customer_id)
    return json_response(consents)


async def get_export(request: web.Request) -> web.Response:
    document = await export_document(request.app, require_customer(request))
    return json_response(
        document,
        headers={
            "Cache-Control": "no-store",
            "Content-Disposition": 'attachment; filename="my-data.json"',
        },
    )
