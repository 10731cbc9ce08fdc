"""Campaigns and their recipients in PostgreSQL: plain SQL on a connection the caller owns.

A recipient is a row of the delivery log (``deliveries``, kind ``campaign``) with the
campaign's id: unique per (campaign, customer), claimed as ``sending`` before its message
goes and settled (``sent``, ``failed``) after. Ids, codes and counts only.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.notifications.campaign_domain import KIND, UNKNOWN_AFTER_RESTART, Outcome, Recipient
from services.notifications.domain import Channel
from shared.db import DbConn

COLUMNS = (
    "id, promotion_id, channel, status, scheduled_at, created_by, created_at, promotion,"
    " audience, sent, failed, skipped, after_customer, held_until, held_for, started_at,"
    " finished_at, ended_reason"
)


async def insert_campaign(
    conn: DbConn,
    *,
    campaign_id: UUID,
    promotion_id: UUID,
    channel: Channel,
    scheduled_at: datetime,
    created_by: UUID,
    promotion: dict[str, Any],
) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO campaigns (id, promotion_id, channel, status, scheduled_at, created_by,"  # noqa: S608 (fixed columns)
        f" promotion) VALUES ($1, $2, $3, 'scheduled', $4, $5, $6) RETURNING {COLUMNS}",
        campaign_id,
        promotion_id,
        channel,
        scheduled_at,
        created_by,
        promotion,
    )
    assert row is not None
    return row


async def campaign(conn: DbConn, campaign_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {COLUMNS} FROM campaigns WHERE id = $1",  # noqa: S608 (fixed columns)
        campaign_id,
    )
    return row


async def campaigns(conn: DbConn, limit: int, before: datetime | None) -> list[asyncpg.Record]:
    """Newest first, ``limit`` of them created before ``before`` (the page's cursor)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        f"SELECT {COLUMNS} FROM campaigns WHERE $2::timestamptz IS NULL OR created_at < $2"  # noqa: S608 (fixed columns)
        " ORDER BY created_at DESC LIMIT $1",
        limit,
        before,
    )
    return rows


async def move(
    conn: DbConn, campaign_id: UUID, from_statuses: Iterable[str], to: str
) -> asyncpg.Record | None:
    """The marketer's pause or resume; None when the campaign is not in ``from_statuses``.
    A resumed campaign that never started is scheduled again; one that did runs on."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "UPDATE campaigns SET status = CASE WHEN $3 = 'running' AND started_at IS NULL"  # noqa: S608 (fixed columns)
        "   THEN 'scheduled' ELSE $3 END, held_until = NULL, held_for = NULL"
        f" WHERE id = $1 AND status = ANY($2::text[]) RETURNING {COLUMNS}",
        campaign_id,
        list(from_statuses),
        to,
    )
    return row


async def take_due(conn: DbConn, owner: UUID, lease_s: float) -> asyncpg.Record | None:
    """Lease one due campaign to ``owner``: scheduled and due, or running, not held, and not
    leased to another live runner. ``SKIP LOCKED``: replicas looking at once pick different
    campaigns (or none) instead of waiting for each other. Call inside a transaction."""
    row = await conn.fetchrow(
        "SELECT id FROM campaigns"
        " WHERE (status = 'running' OR (status = 'scheduled' AND scheduled_at <= now()))"
        "   AND (held_until IS NULL OR held_until <= now())"
        "   AND (lease_until IS NULL OR lease_until < now() OR lease_owner = $1)"
        " ORDER BY scheduled_at LIMIT 1 FOR UPDATE SKIP LOCKED",
        owner,
    )
    if row is None:
        return None
    taken: asyncpg.Record | None = await conn.fetchrow(
        "UPDATE campaigns SET status = 'running', lease_owner = $2,"  # noqa: S608 (fixed columns)
        " lease_until = now() + make_interval(secs => $3), started_at = coalesce(started_at,"
        f" now()), held_until = NULL, held_for = NULL WHERE id = $1 RETURNING {COLUMNS}",
        row["id"],
        owner,
        lease_s,
    )
    return taken


async def settle_stale_claims(conn: DbConn, campaign_id: UUID) -> int:
    """Claims no runner holds any more (the one that made them stopped between a send and its
    record): failed, never sent again. The number settled."""
    result: str = await conn.execute(
        "UPDATE deliveries SET status = 'failed', reason = $2, at = now()"
        " WHERE campaign_id = $1 AND status = 'sending'",
        campaign_id,
        UNKNOWN_AFTER_RESTART,
    )
    return int(result.split()[-1])


async def add_counts(
    conn: DbConn,
    campaign_id: UUID,
    *,
    sent: int = 0,
    failed: Mapping[str, int] | None = None,
    skipped: Mapping[str, int] | None = None,
) -> None:
    await conn.execute(
        "UPDATE campaigns SET sent = sent + $2, failed = campaign_counts_add(failed, $3::jsonb),"
        " skipped = campaign_counts_add(skipped, $4::jsonb) WHERE id = $1",
        campaign_id,
        sent,
        dict(failed or {}),
        dict(skipped or {}),
    )


async def set_audience(conn: DbConn, campaign_id: UUID, audience: int) -> None:
    await conn.execute("UPDATE campaigns SET audience = $2 WHERE id = $1", campaign_id, audience)


async def known_recipients(conn: DbConn, campaign_id: UUID, ids: Sequence[UUID]) -> set[UUID]:
    """Who of ``ids`` already has a row for the campaign (claimed, sent, failed, skipped)."""
    rows = await conn.fetch(
        "SELECT customer_id FROM deliveries WHERE campaign_id = $1"
        " AND customer_id = ANY($2::uuid[])",
        campaign_id,
        list(ids),
    )
    return {row["customer_id"] for row in rows}


async def add_recipients(
    conn: DbConn,
    campaign_id: UUID,
    channel: Channel,
    recipients: Sequence[Recipient],
    status: str,
    reason: str | None = None,
) -> dict[UUID, UUID]:
    """Rows for ``recipients`` (``sending``: the claim; ``skipped``: with its reason), each
    only if the customer has none for the campaign yet. customer id -> the row's id, for the
    rows made (a recipient another runner claimed meanwhile is left out)."""
    ids = [uuid4() for _ in recipients]
    rows = await conn.fetch(
        "INSERT INTO deliveries (notification_id, customer_id, kind, channel, template, locale,"
        " status, reason, release_id, message_id, campaign_id)"
        " SELECT n, c, $3, $4, $3, l, $5, $6, r, n, $7"
        " FROM unnest($1::uuid[], $2::uuid[], $8::text[], $9::uuid[]) AS t(n, c, l, r)"
        " ON CONFLICT (campaign_id, customer_id) WHERE campaign_id IS NOT NULL DO NOTHING"
        " RETURNING customer_id, notification_id",
        ids,
        [r.customer_id for r in recipients],
        KIND,
        channel,
        status,
        reason,
        campaign_id,
        [r.locale for r in recipients],
        [r.release_id for r in recipients],
    )
    return {row["customer_id"]: row["notification_id"] for row in rows}


async def settle(conn: DbConn, campaign_id: UUID, outcomes: Mapping[UUID, Outcome]) -> None:
    """The claims' outcomes (customer id -> outcome)."""
    if not outcomes:
        return
    await conn.execute(
        "UPDATE deliveries AS d SET status = t.s, reason = t.r, attempts = t.a, at = now()"
        " FROM unnest($2::uuid[], $3::text[], $4::text[], $5::int[]) AS t(c, s, r, a)"
        " WHERE d.campaign_id = $1 AND d.customer_id = t.c AND d.status = 'sending'",
        campaign_id,
        list(outcomes),
        [o.status for o in outcomes.values()],
        [o.reason for o in outcomes.values()],
        [o.attempts for o in outcomes.values()],
    )


async def unclaim(conn: DbConn, campaign_id: UUID, ids: Sequence[UUID]) -> None:
    """Claims whose message never went (paused, stopping, the server away): they go again."""
    await conn.execute(
        "DELETE FROM deliveries WHERE campaign_id = $1 AND customer_id = ANY($2::uuid[])"
        " AND status = 'sending'",
        campaign_id,
        list(ids),
    )


async def advance(
    conn: DbConn, campaign_id: UUID, owner: UUID, cursor: UUID | None, lease_s: float
) -> bool:
    """The cursor past the batch done and the lease renewed; False when the lease is lost."""
    result: str = await conn.execute(
        "UPDATE campaigns SET after_customer = $3,"
        " lease_until = now() + make_interval(secs => $4)"
        " WHERE id = $1 AND lease_owner = $2",
        campaign_id,
        owner,
        cursor,
        lease_s,
    )
    return result.split()[-1] == "1"


async def status_of(conn: DbConn, campaign_id: UUID) -> str | None:
    status: str | None = await conn.fetchval(
        "SELECT status FROM campaigns WHERE id = $1", campaign_id
    )
    return status


async def finish(
    conn: DbConn, campaign_id: UUID, owner: UUID, status: str, reason: str | None = None
) -> None:
    """Completed or cancelled (a pause that came first stays a pause); the cursor, a
    customer's id, goes."""
    await conn.execute(
        "UPDATE campaigns SET status = $3, ended_reason = $4, finished_at = now(),"
        " lease_owner = NULL, lease_until = NULL, after_customer = NULL"
        " WHERE id = $1 AND lease_owner = $2 AND status = 'running'",
        campaign_id,
        owner,
        status,
        reason,
    )


async def release(
    conn: DbConn,
    campaign_id: UUID,
    owner: UUID,
    held_until: datetime | None = None,
    held_for: str | None = None,
) -> None:
    """Give the lease up (stopping, paused, or held until ``held_until``)."""
    await conn.execute(
        "UPDATE campaigns SET lease_owner = NULL, lease_until = NULL, held_until = $3,"
        " held_for = $4 WHERE id = $1 AND lease_owner = $2",
        campaign_id,
        owner,
        held_until,
        held_for,
    )


async def move_cursor_off(conn: DbConn, customer_id: UUID) -> int:
    """Erasure: a campaign whose cursor is the erased customer's id gets the id of its
    recipient just before (or none); the walk goes on from there, and the recipients it meets
    again have their rows, so none is sent twice. The number of campaigns changed."""
    result: str = await conn.execute(
        "UPDATE campaigns AS c SET after_customer = (SELECT d.customer_id FROM deliveries d"
        "   WHERE d.campaign_id = c.id AND d.customer_id < $1"
        "   ORDER BY d.customer_id DESC LIMIT 1)"
        " WHERE c.after_customer = $1",
        customer_id,
    )
    return int(result.split()[-1])


async def end_for_promotion(conn: DbConn, promotion_id: UUID) -> int:
    """The promotion is over: its campaigns not finished are cancelled (a runner sending one
    stops at its next message). The number cancelled."""
    result: str = await conn.execute(
        "UPDATE campaigns SET status = 'cancelled', ended_reason = 'promotion_ended',"
        " finished_at = now(), after_customer = NULL"
        " WHERE promotion_id = $1 AND status IN ('scheduled', 'running', 'paused')",
        promotion_id,
    )
    return int(result.split()[-1])
