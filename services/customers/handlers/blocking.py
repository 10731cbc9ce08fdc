"""Blocking (Law 94-V art. 1): the customer's own ``POST|DELETE /api/customers/me/block`` and
the privacy officer's ``POST|DELETE /api/customers/privacy/customers/{customer_id}/block``.
Thin: parse, call ``blocking.block``/``unblock`` in one transaction, answer 202 with the
request (self-service completes at once; ``due`` is the law's one working day)."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from shared.auth import require_customer, require_role
from shared.db import PG_POOL
from shared.http import Problem, json_response, read_json

from .. import blocking
from ..keys import ACCOUNTS
from ..request_models import StaffBlockIn
from ..subject_requests import SubjectRequest

PRIVACY_OFFICER = "privacy_officer"


def accepted(filed: SubjectRequest) -> web.Response:
    """The contract's ``202 {request_id, status, due, reason?}``."""
    body: dict[str, Any] = {
        "request_id": str(filed.id),
        "status": filed.status,
        "due": filed.due.isoformat(),
        "filed_at": filed.filed_at.isoformat(),
    }
    optional = {"reason": filed.reason, "resolution": filed.resolution}
    body.update({key: value for key, value in optional.items() if value is not None})
    return json_response(body, status=202, headers={"Cache-Control": "no-store"})


async def block_me(request: web.Request) -> web.Response:
    return await _own(request, blocking.block)


async def unblock_me(request: web.Request) -> web.Response:
    return await _own(request, blocking.unblock)


async def _own(request: web.Request, change: blocking.Change) -> web.Response:
    customer_id = require_customer(request)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        filed = await change(
            conn, request.app[ACCOUNTS].gate, customer_id, by=f"customer:{customer_id}"
        )
    return accepted(filed)


async def officer_block(request: web.Request) -> web.Response:
    return await _officer(request, blocking.block)


async def officer_unblock(request: web.Request) -> web.Response:
    return await _officer(request, blocking.unblock)


async def _officer(request: web.Request, change: blocking.Change) -> web.Response:
    officer = require_role(request, PRIVACY_OFFICER)
    customer_id = _customer_id(request)
    body = await read_json(request, StaffBlockIn)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        filed = await change(
            conn,
            request.app[ACCOUNTS].gate,
            customer_id,
            by=f"staff:{officer.subject}",
            reason=body.reason,
            note=body.note,
        )
    return accepted(filed)


def _customer_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["customer_id"])
    except ValueError:
        raise Problem(404, "Not found", "No such customer, or their data is erased.") from None
