"""Plain SQL of the channels: suppressed contacts, used unsubscribe links, SMS reports.

Ids and codes only: the address or phone a row is about is never written down.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from uuid import UUID

from services.notifications.domain import Channel
from shared.db import DbConn


async def record_suppression(
    conn: DbConn, customer_id: UUID, channel: Channel, reason: str, at: datetime
) -> None:
    await conn.execute(
        "INSERT INTO suppressions (customer_id, channel, reason, at) VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (customer_id, channel) DO UPDATE SET reason = EXCLUDED.reason,"
        " at = EXCLUDED.at",
        customer_id,
        channel,
        reason,
        at,
    )


async def suppressed_among(
    conn: DbConn, customer_ids: Collection[UUID], channel: Channel
) -> set[UUID]:
    rows = await conn.fetch(
        "SELECT customer_id FROM suppressions WHERE channel = $1 AND customer_id = ANY($2)",
        channel,
        list(customer_ids),
    )
    return {row["customer_id"] for row in rows}


async def record_unsubscribe(
    conn: DbConn,
    customer_id: UUID,
    channel: Channel,
    campaign_id: UUID | None,
    via: str,
    at: datetime,
) -> bool:
    """Record that this link was used; False when it already was (nothing to publish)."""
    added = await conn.fetchval(
        "INSERT INTO unsubscribes (customer_id, channel, campaign_id, via, at)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        customer_id,
        channel,
        campaign_id,
        via,
        at,
    )
    return bool(added)


async def record_sms_report(
    conn: DbConn, notification_id: UUID, report: str, reason: str | None, at: datetime
) -> tuple[bool, UUID | None]:
    """Write the provider's report on the SMS sent as ``notification_id``.

    Returns whether the delivery is known, and the customer id when this report is the one
    that turned it ``failed`` (a redelivered report changes nothing and returns None).
    """
    row = await conn.fetchrow(
        "WITH target AS (SELECT notification_id, status AS before FROM deliveries"
        " WHERE notification_id = $1 AND channel = 'sms' FOR UPDATE)"
        " UPDATE deliveries d SET report = $2, reported_at = $4,"
        " status = CASE WHEN $2 = 'failed' THEN 'failed' ELSE d.status END,"
        " reason = CASE WHEN $2 = 'failed' THEN $3 ELSE d.reason END"
        " FROM target WHERE d.notification_id = target.notification_id"
        " RETURNING d.customer_id, target.before",
        notification_id,
        report,
        reason,
        at,
    )
    if row is None:
        return False, None
    newly_failed = report == "failed" and row["before"] != "failed"
    return True, row["customer_id"] if newly_failed else None


async def forget_suppressions_of(conn: DbConn, customer_id: UUID) -> int:
    result: str = await conn.execute("DELETE FROM suppressions WHERE customer_id = $1", customer_id)
    return int(result.split()[-1])


async def forget_unsubscribes_of(conn: DbConn, customer_id: UUID) -> int:
    result: str = await conn.execute("DELETE FROM unsubscribes WHERE customer_id = $1", customer_id)
    return int(result.split()[-1])
