"""The delivery log in PostgreSQL: plain SQL on a connection the caller owns."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID

from services.notifications.domain import Delivery, NotificationRequest, PolicyNotice
from shared.db import DbConn


async def already_sent(conn: DbConn, request: NotificationRequest) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM deliveries WHERE status = 'sent' AND kind = $1 AND customer_id = $2"
        " AND coalesce(order_ref, '') = coalesce($3, '')"
        " AND coalesce(reference, '') = coalesce($4, '')",
        request.kind,
        request.customer_id,
        request.order_ref,
        request.reference,
    )
    return bool(found)


async def record_delivery(conn: DbConn, delivery: Delivery) -> None:
    await conn.execute(
        "INSERT INTO deliveries (notification_id, customer_id, kind, channel, template, locale,"
        " status, reason, order_ref, release_id, message_id, reference)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        delivery.notification_id,
        delivery.customer_id,
        delivery.kind,
        delivery.channel,
        delivery.template,
        delivery.locale,
        delivery.status,
        delivery.reason,
        delivery.order_ref,
        delivery.release_id,
        delivery.message_id,
        delivery.reference,
    )


async def deliveries_of(conn: DbConn, customer_id: UUID) -> list[dict[str, Any]]:
    """The customer's delivery log, oldest first (their export; services/notifications/
    data_map.py): what was sent, skipped or failed and why, with the release it used."""
    rows = await conn.fetch(
        "SELECT kind, channel, template, locale, status, reason, order_ref, reference,"
        " release_id, at"
        " FROM deliveries WHERE customer_id = $1 ORDER BY at, notification_id",
        customer_id,
    )
    return [
        {
            **dict(row),
            "release_id": str(row["release_id"]) if row["release_id"] else None,
            "at": row["at"].isoformat(),
        }
        for row in rows
    ]


async def unlink_deliveries_of(conn: DbConn, customer_id: UUID) -> int:
    """Erasure: the rows stay (what was sent, when) without the customer and release ids."""
    result: str = await conn.execute(
        "UPDATE deliveries SET customer_id = NULL, release_id = NULL WHERE customer_id = $1",
        customer_id,
    )
    return int(result.split()[-1])


async def open_policy_notice(
    conn: DbConn, version: str, notice_id: UUID, effective_date: date
) -> bool:
    """A new policy version to tell every active customer of; False when already known."""
    inserted = await conn.fetchval(
        "INSERT INTO policy_notices (version, notice_id, effective_date) VALUES ($1, $2, $3)"
        " ON CONFLICT (version) DO NOTHING RETURNING true",
        version,
        notice_id,
        effective_date,
    )
    return bool(inserted)


async def unfinished_policy_notice(conn: DbConn) -> PolicyNotice | None:
    """The oldest policy notice not yet sent to everyone."""
    row = await conn.fetchrow(
        "SELECT version, notice_id, effective_date FROM policy_notices"
        " WHERE finished_at IS NULL ORDER BY received_at, version LIMIT 1"
    )
    return PolicyNotice(row["version"], row["notice_id"], row["effective_date"]) if row else None


async def policy_notice_progress(conn: DbConn, version: str) -> UUID | None:
    """The highest customer id the notice of ``version`` has a delivery row for (customers
    hands out its batches in customer id order): where the walk goes on."""
    last: UUID | None = await conn.fetchval(
        "SELECT customer_id FROM deliveries"
        " WHERE kind = 'policy_published' AND reference = $1 AND customer_id IS NOT NULL"
        " ORDER BY customer_id DESC LIMIT 1",
        version,
    )
    return last


async def has_delivery(conn: DbConn, kind: str, customer_id: UUID, reference: str) -> bool:
    """Any row, whatever its status: a notice claimed once is never tried again."""
    found = await conn.fetchval(
        "SELECT true FROM deliveries WHERE kind = $1 AND customer_id = $2 AND reference = $3",
        kind,
        customer_id,
        reference,
    )
    return bool(found)


async def settle_delivery(
    conn: DbConn, notification_id: UUID, status: str, reason: str | None
) -> None:
    """A claimed send (status failed, reason ``sending``) as it ended."""
    await conn.execute(
        "UPDATE deliveries SET status = $2, reason = $3, at = now() WHERE notification_id = $1",
        notification_id,
        status,
        reason,
    )


async def drop_claim(conn: DbConn, notification_id: UUID) -> None:
    """A claim whose message surely did not go (the server refused it for now)."""
    await conn.execute("DELETE FROM deliveries WHERE notification_id = $1", notification_id)


async def finish_policy_notice(conn: DbConn, version: str) -> None:
    await conn.execute(
        "UPDATE policy_notices SET finished_at = now() WHERE version = $1 AND finished_at IS NULL",
        version,
    )


async def sent_for_reference(conn: DbConn, kind: str, reference: str) -> bool:
    """A mail of ``kind`` already sent for ``reference``, whoever it went to."""
    found = await conn.fetchval(
        "SELECT true FROM deliveries WHERE status = 'sent' AND kind = $1 AND reference = $2",
        kind,
        reference,
    )
    return bool(found)
