"""The delivery log in PostgreSQL: plain SQL on a connection the caller owns."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from services.notifications.domain import Delivery, NotificationRequest
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
