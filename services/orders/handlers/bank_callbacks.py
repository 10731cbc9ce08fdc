"""Bank callbacks: ``POST /api/payments/{bank}/callbacks``, signed with ``shared.signing``.

Here: a known bank (404), the signature and its freshness (401), the body (422); then the
use case ``payment_flow.apply_bank_notice`` in one transaction, its refusals answered as
problems: unknown payment 404, event id reused 409, amount mismatch 422, a contradiction 409.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg
from aiohttp import web
from pydantic import Field

from shared.db import PG_POOL
from shared.http import Problem, json_response, read_json
from shared.models import StrictBody
from shared.signing import SignatureError, verify

from ..config import Settings
from ..domain import request_hash
from ..keys import SETTINGS
from ..payment_flow import (
    AmountMismatch,
    BankNotice,
    DoesNotApply,
    EventIdReused,
    UnknownPayment,
    apply_bank_notice,
)


class BankCallback(StrictBody):
    event_id: UUID
    payment_id: UUID
    status: Literal["succeeded", "declined", "refunded"]
    amount: int = Field(ge=0)
    currency: str = Field(max_length=3)


def _bank_secret(settings: Settings, bank: str) -> str:
    secret = settings.bank_secrets.get(bank)
    if secret is None:
        raise Problem(404, "Unknown bank", "No such bank.")
    return secret.get_secret_value()


async def bank_callback(request: web.Request) -> web.Response:
    settings = request.app[SETTINGS]
    bank = request.match_info["bank"]
    secret = _bank_secret(settings, bank)
    raw = await request.read()
    try:
        verify(secret, request.headers, raw, max_age_s=settings.callback_max_age_s)
    except SignatureError:
        raise Problem(401, "Bad signature", "The callback is unsigned, forged or stale.") from None
    body = await read_json(request, BankCallback)
    pool: asyncpg.Pool = request.app[PG_POOL]
    notice = BankNotice(**body.model_dump(), body_hash=request_hash(raw.decode()))
    try:
        async with pool.acquire() as conn, conn.transaction():
            result = await apply_bank_notice(conn, settings, bank, notice)
    except UnknownPayment:
        raise Problem(404, "Unknown payment", "No such payment for this bank.") from None
    except EventIdReused:
        raise Problem(409, "Event id reused", "This event id came with another body.") from None
    except AmountMismatch:
        raise Problem(
            422, "Amount mismatch", "Amount or currency differ from the payment."
        ) from None
    except DoesNotApply as exc:
        raise Problem(409, "Status does not apply", str(exc)) from None
    return json_response({"result": result})
