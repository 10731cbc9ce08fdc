"""Unsubscribing, the use case: a used unsubscribe link (or an SMS STOP matched by the
customers service) withdraws that channel's marketing consent.

The link's token names the customer, the channel and the campaign (``unsubscribe_links``);
the first use of a link records it (``unsubscribes``) and publishes ``MarketingUnsubscribed``
through the outbox in the same transaction; a second use of the same link publishes nothing
new (the customers service, which keeps the consent history, would take it again anyway).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Literal

import asyncpg

from services.notifications import channel_storage
from services.notifications.unsubscribe_links import Unsubscribe
from shared.contracts import MarketingUnsubscribed
from shared.logging import get_logger
from shared.messaging import enqueue

Via = Literal["one_click", "page"]
log = get_logger("notifications.unsubscribing")


async def unsubscribe(pool: asyncpg.Pool, target: Unsubscribe, via: Via) -> bool:
    """Withdraw the marketing consent the link names; False if the link was used before."""
    at = datetime.now(UTC)
    async with pool.acquire() as conn, conn.transaction():
        fresh = await channel_storage.record_unsubscribe(
            conn, target.customer_id, target.channel, target.campaign_id, via, at
        )
        if fresh:
            event = MarketingUnsubscribed(
                customer_id=target.customer_id,
                channel=target.channel,
                via=via,
                campaign_id=target.campaign_id,
                at=at,
            )
            await enqueue(conn, event)
    log.info("unsubscribe link used", channel=target.channel, via=via, first=fresh)
    return fresh
