"""Suppression, the use case: a contact refused for good stops getting marketing.

A permanent SMTP refusal of the recipient (a hard bounce, 5xx) on any send, the SMS
provider's permanent rejection of a number, or its ``failed`` report that says the number
cannot take texts, suppresses that customer's contact on that channel: a row of
``suppressions`` (customer id, channel, reason, when: never the address) for the campaign
runner here, and ``ContactSuppressed`` through the outbox, in the caller's transaction, for
the customers service, which holds the contact and lifts the suppression when the customer
changes it.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import UTC, datetime
from typing import Literal
from uuid import UUID

from services.notifications import channel_storage
from services.notifications.domain import Channel
from shared.contracts import ContactSuppressed
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import enqueue

Reason = Literal["hard_bounce", "provider_rejected"]
log = get_logger("notifications.suppression")


async def suppress(
    conn: DbConn,
    customer_id: UUID,
    channel: Channel,
    reason: Reason,
    *,
    at: datetime | None = None,
) -> ContactSuppressed:
    """Record the suppression and publish it (outbox), in the caller's transaction."""
    when = at or datetime.now(UTC)
    await channel_storage.record_suppression(conn, customer_id, channel, reason, when)
    event = ContactSuppressed(customer_id=customer_id, channel=channel, reason=reason, at=when)
    await enqueue(conn, event)
    log.info("contact suppressed", channel=channel, reason=reason)
    return event


async def suppressed(conn: DbConn, customer_ids: Collection[UUID], channel: Channel) -> set[UUID]:
    """Which of ``customer_ids`` are suppressed on ``channel`` here (the runner skips them)."""
    if not customer_ids:
        return set()
    return await channel_storage.suppressed_among(conn, customer_ids, channel)
