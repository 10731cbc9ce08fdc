"""The erasure's confirmation to the customer: the one mail that must go before the address
is gone. Right before the shred (``erasure.advance``, outside its transaction, like the
question to orders) the email address and first name are released to notifications (purpose
``service_communication``, reason ``erasure_confirmation``: a row of the customer's
disclosure register) and handed over at once: ``POST {NOTIFICATIONS_URL}/internal/
erasure-confirmations``, which sends the mail while the request waits and keeps no address.

Best effort by design: notifications away, slow (``TIMEOUT_S``) or refusing does not hold
the erasure (the right comes first, and the request's answer and record say when it
completed); the failure is logged by its kind only. Notifications sends once per request.
"""

from __future__ import annotations

from uuid import UUID

import aiohttp
from aiohttp import web

from shared.auth import INTERNAL_TOKEN_HEADER
from shared.db import PG_POOL
from shared.logging import get_logger
from shared.service import HTTP_CLIENT

from .domain import PurposeNotAllowed
from .keys import ACCOUNTS, SETTINGS
from .personal_data import CustomerUnavailable

log = get_logger("customers.erasure")
TIMEOUT_S = 5.0
REASON = "erasure_confirmation"


async def confirm_erasure(app: web.Application, customer_id: UUID, request_id: UUID) -> bool:
    """Release the address for the confirmation and have notifications send it; True when
    notifications took it. With no notifications service configured nothing is sent."""
    settings = app[SETTINGS]
    if not settings.notifications_url:
        return False
    try:
        gate = app[ACCOUNTS].gate
        async with app[PG_POOL].acquire() as conn, gate.transaction(conn):
            release = await gate.release(
                conn,
                customer_id,
                purpose="service_communication",
                kind="email",
                recipient="notifications",
                actor="system:erasure",
                reason=REASON,
            )
    except (CustomerUnavailable, PurposeNotAllowed) as exc:  # e.g. no email address
        log.info("no erasure confirmation", reason=type(exc).__name__)
        return False
    if not release.fields.get("email"):  # an account by phone alone: nowhere to mail it
        return False
    body = {
        "request_id": str(request_id),
        "locale": release.locale,
        "email": release.fields.get("email"),
        "first_name": release.fields.get("first_name"),
    }
    url = f"{settings.notifications_url.rstrip('/')}/internal/erasure-confirmations"
    headers = {INTERNAL_TOKEN_HEADER: settings.internal_token.get_secret_value()}
    try:
        async with app[HTTP_CLIENT].post(
            url, json=body, headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)
        ) as response:
            response.raise_for_status()
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("erasure confirmation not sent", error=type(exc).__name__)
        return False
    return True
