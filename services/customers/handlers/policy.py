"""The privacy policy (read, publish a version, accept it) and the token-signing JWKS."""

from __future__ import annotations

from aiohttp import web

from shared.auth import require_customer, require_role
from shared.db import PG_POOL
from shared.http import Problem, json_response, query_model, read_json
from shared.logging import get_logger

from .. import storage
from ..accounts import PolicyNotPublishable
from ..keys import ACCOUNTS, JWKS
from ..request_models import PolicyAcceptance, PolicyQuery, PolicyVersionIn

log = get_logger("customers.http")


def policy_item(policy: storage.Policy) -> dict[str, str]:
    return {
        "version": policy.version,
        "effective_date": policy.effective_date.isoformat(),
        "sha256": policy.sha256,
        "sha256_kk": policy.sha256_kk,
    }


async def get_policy(request: web.Request) -> web.Response:
    query = query_model(request, PolicyQuery)
    async with request.app[PG_POOL].acquire() as conn:
        policy = await storage.current_policy(conn)
    text = policy.text_kk if query.lang == "kk" else policy.text_ru
    return json_response({**policy_item(policy), "lang": query.lang, "text": text})


async def get_jwks(request: web.Request) -> web.Response:
    return json_response(request.app[JWKS], headers={"Cache-Control": "public, max-age=300"})


async def publish_policy(request: web.Request) -> web.Response:
    staff = require_role(request, "privacy_officer")
    body = await read_json(request, PolicyVersionIn)
    try:
        async with request.app[PG_POOL].acquire() as conn, conn.transaction():
            policy = await request.app[ACCOUNTS].publish_policy(conn, body, staff.subject)
    except storage.Conflict:
        raise Problem(409, "Version exists", "This policy version is already published.") from None
    except PolicyNotPublishable:
        raise Problem(
            409,
            "Effective date too early",
            "A new version takes effect today or later, not before the latest published one.",
        ) from None
    log.info("policy published", version=policy.version)
    return json_response(policy_item(policy), status=201)


async def accept_policy(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    body = await read_json(request, PolicyAcceptance)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        recorded = await request.app[ACCOUNTS].accept_policy(conn, customer_id, body.version)
    return json_response({"policy_version": body.version, "recorded": recorded})
