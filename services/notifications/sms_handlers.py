"""HTTP handlers of the SMS provider's callbacks, signed with ``SMS_PROVIDER_SECRET``
(``shared.signing``): ``POST /api/notifications/sms/reports`` (delivery reports) and
``POST /api/notifications/sms/inbound`` (texts sent to the shop's number).

Unsigned, forged or stale: 401. A body that breaks the contract: 4xx. The phone number of
an inbound text is never logged, stored or quoted back.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal, TypeVar
from uuid import UUID

import phonenumbers
from aiohttp import web
from pydantic import AfterValidator, ConfigDict, Field

from services.notifications import sms_callbacks
from services.notifications.keys import SETTINGS
from services.notifications.sms_callbacks import CustomersAway, CustomersLink, DeliveryReport
from shared.db import PG_POOL
from shared.http import Problem, json_response, read_json
from shared.models import StrictBody
from shared.service import HTTP_CLIENT
from shared.signing import SignatureError, verify

Body = TypeVar("Body", bound=StrictBody)
Code = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]{0,39}$")]


def _e164(value: str) -> str:
    try:
        number = phonenumbers.parse(value, None)
    except phonenumbers.NumberParseException:
        raise ValueError("not a phone number in international form") from None
    if not phonenumbers.is_possible_number(number):
        raise ValueError("not a possible phone number")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


class ReportBody(StrictBody):
    event_id: UUID
    message_id: UUID
    provider_message_id: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")
    status: Literal["delivered", "failed"]
    permanent: bool = False
    reason: Code | None = None
    at: datetime


class InboundBody(StrictBody):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)
    event_id: UUID
    sender: Annotated[str, Field(alias="from", max_length=32), AfterValidator(_e164)]
    to: str = Field(max_length=32)
    text: str = Field(max_length=1600)
    received_at: datetime


async def _signed(request: web.Request, model: type[Body]) -> Body:
    raw = await request.read()
    secret = request.app[SETTINGS].sms_provider_secret.get_secret_value()
    try:
        if not secret:
            raise SignatureError("no secret configured")
        verify(secret, request.headers, raw)
    except SignatureError:
        raise Problem(401, "Bad signature", "The callback is unsigned, forged or stale.") from None
    return await read_json(request, model)


async def sms_report(request: web.Request) -> web.Response:
    body = await _signed(request, ReportBody)
    report = DeliveryReport(body.message_id, body.status, body.permanent, body.reason, body.at)
    if not await sms_callbacks.take_report(request.app[PG_POOL], report):
        raise Problem(404, "Unknown message", "No text of the shop has this message id.")
    return json_response({"applied": True})


async def sms_inbound(request: web.Request) -> web.Response:
    body = await _signed(request, InboundBody)
    settings = request.app[SETTINGS]
    link = CustomersLink(
        request.app[HTTP_CLIENT], settings.customers_url, settings.internal_token.get_secret_value()
    )
    try:
        stopped = await sms_callbacks.take_inbound(link, body.sender, body.text)
    except CustomersAway:
        raise Problem(503, "Try again later", "The stop cannot be recorded now.") from None
    return json_response({"stop": stopped})
