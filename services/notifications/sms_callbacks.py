"""What the SMS provider tells the shop, the use cases: delivery reports and inbound texts.

A delivery report names the text by the ``message_id`` the shop sent it with (the delivery's
``notification_id``): the delivery log row gets the report (``delivered`` or ``failed``,
when); a ``failed`` report the provider marks ``permanent`` (the number cannot take texts)
suppresses the customer's SMS contact (``suppression``) the first time it arrives.

An inbound text that is a stop word (``stop_words``) goes to the customers service, which
holds the phone numbers: ``POST {CUSTOMERS_URL}/internal/sms-stops {phone}`` withdraws the
SMS marketing consent of whoever has that number. The number lives in memory only for that
call; if customers cannot answer, the provider is told to try again later.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID

import aiohttp
import asyncpg

from services.notifications import channel_storage, suppression
from services.notifications.stop_words import is_stop
from shared.auth import INTERNAL_TOKEN_HEADER
from shared.logging import get_logger

log = get_logger("notifications.sms")
Report = Literal["delivered", "failed"]


class CustomersAway(Exception):
    """The customers service could not take the stop now: the provider should retry."""


@dataclass(frozen=True)
class DeliveryReport:
    message_id: UUID
    status: Report
    permanent: bool
    reason: str | None
    at: datetime


async def take_report(pool: asyncpg.Pool, report: DeliveryReport) -> bool:
    """Apply a delivery report; False when no SMS of ours has that message id."""
    reason = (report.reason or "undeliverable") if report.status == "failed" else None
    async with pool.acquire() as conn, conn.transaction():
        known, newly_failed = await channel_storage.record_sms_report(
            conn, report.message_id, report.status, reason, report.at
        )
        if newly_failed is not None and report.permanent:
            await suppression.suppress(conn, newly_failed, "sms", "provider_rejected")
    log.info("sms report", status=report.status, permanent=report.permanent, known=known)
    return known


@dataclass(frozen=True)
class CustomersLink:
    http: aiohttp.ClientSession
    customers_url: str
    internal_token: str


async def take_inbound(customers: CustomersLink, phone: str, text: str) -> bool:
    """Act on an inbound text; True when it was a stop (passed on to customers)."""
    if not is_stop(text):
        log.info("inbound sms ignored: not a stop word")
        return False
    url = f"{customers.customers_url.rstrip('/')}/internal/sms-stops"
    headers = {INTERNAL_TOKEN_HEADER: customers.internal_token}
    try:
        async with customers.http.post(url, json={"phone": phone}, headers=headers) as response:
            status = response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        raise CustomersAway(type(exc).__name__) from None
    if not 200 <= status < 300:
        raise CustomersAway(f"customers answered {status}")
    log.info("inbound sms stop passed on")
    return True
