"""Bank callbacks: ``POST /api/payments/{bank}/callbacks``, signed with ``shared.signing``.

Checked in this order: a known bank (404), the signature and its freshness (401), the body
(422), the payment of this bank (404), the event id (a repeat of the same body: 200
duplicate; the same id with another body: 409), the amount and currency (422), then the
payment's own state machine (``domain.payment_step``; a contradiction: 409). The order is
locked before the payment, as everywhere, and everything commits in one transaction.
"""

from __future__ import annotations

from typing import Literal
from uuid import UUID

import asyncpg
from aiohttp import web
from pydantic import Field

from shared.db import PG_POOL, DbConn
from shared.http import Problem, json_response, read_json
from shared.models import StrictBody
from shared.signing import SignatureError, verify

from .. import storage
from ..config import Settings
from ..domain import (
    IllegalTransition,
    PaymentConflict,
    PaymentStatus,
    PaymentStep,
    payment_step,
    request_hash,
)
from ..keys import SETTINGS
from ..workflow import apply_trigger, set_payment_status


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
    async with pool.acquire() as conn, conn.transaction():
        result = await _apply(conn, settings, bank, body, request_hash(raw.decode()))
    return json_response({"result": result})


async def _apply(
    conn: DbConn, settings: Settings, bank: str, body: BankCallback, body_hash: str
) -> str:
    payment = await _locked_payment(conn, bank, body.payment_id)
    known = await storage.record_payment_callback(
        conn, bank, body.event_id, body.payment_id, body.status, body_hash
    )
    if known is not None:
        if known != body_hash:
            raise Problem(409, "Event id reused", "This event id came with another body.")
        return "duplicate"
    if (body.amount, body.currency) != (payment["amount"], payment["currency"]):
        raise Problem(422, "Amount mismatch", "Amount or currency differ from the payment.")
    try:
        step = payment_step(PaymentStatus(payment["status"]), body.status)
    except PaymentConflict as exc:
        raise Problem(409, "Status does not apply", str(exc)) from None
    if step.status is None:
        return "duplicate"
    await _follow(conn, settings, payment, step)
    return "applied"


async def _locked_payment(conn: DbConn, bank: str, payment_id: UUID) -> asyncpg.Record:
    """The payment, locked after its order (the one lock order of the service)."""
    payment = await storage.get_payment(conn, payment_id)
    if payment is None or payment["bank"] != bank:
        raise Problem(404, "Unknown payment", "No such payment for this bank.")
    order = await storage.lock_order(conn, payment["order_id"])
    locked = await storage.lock_order_payment(conn, payment["order_id"])
    assert order is not None and locked is not None
    return locked


async def _follow(
    conn: DbConn, settings: Settings, payment: asyncpg.Record, step: PaymentStep
) -> None:
    order = await storage.lock_order(conn, payment["order_id"])
    assert order is not None and step.status is not None
    await set_payment_status(conn, payment, order["order_ref"], step.status)
    if step.order_trigger is None:
        return
    try:
        await apply_trigger(conn, payment["order_id"], step.order_trigger, settings)
    except IllegalTransition as exc:
        # Cannot happen while payment and order move together under the order's lock.
        raise Problem(409, "Status does not apply", f"The order is {exc.status.value}.") from None
