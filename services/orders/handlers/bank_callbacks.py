"""Bank callbacks: ``POST /api/payments/{bank}/callbacks``, signed with ``shared.signing``.

Here: a known bank (404), the signature and its freshness (401), the body (422); then the
use case ``payment_flow.apply_bank_notice`` in one transaction, its refusals answered as
problems: unknown payment 404, event id reused 409, amount mismatch 422, a contradiction 409.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from aiohttp import web
from pydantic import Field

from shared.http import Problem, json_response
from shared.models import StrictBody

from ..config import Settings
from ..domain import request_hash
from ..payment_flow import (
    AmountMismatch,
    BankNotice,
    DoesNotApply,
    EventIdReused,
    UnknownPayment,
    apply_bank_notice,
)
from .common import app_settings, pool, signed_body


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
    settings = app_settings(request)
    bank = request.match_info["bank"]
    raw, body = await signed_body(request, _bank_secret(settings, bank), BankCallback)
    notice = BankNotice(**body.model_dump(), body_hash=request_hash(raw.decode()))
    try:
        async with pool(request).acquire() as conn, conn.transaction():
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
