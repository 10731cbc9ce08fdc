"""The marketer's use cases: make a campaign for a promotion, see it, pause and resume it.

A campaign keeps the promotion's public facts as the catalog gave them when it was made
(``GET {CATALOG_URL}/internal/promotions/{id}``): an unknown promotion is refused, and so
is one that has ended or was cancelled. The runner (``campaign_runner.py``) does the rest.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
from aiohttp import ClientSession

from services.notifications import campaign_storage as storage
from services.notifications.campaign_domain import PAUSABLE, RESUMABLE
from services.notifications.config import Settings
from services.notifications.domain import Channel
from services.notifications.promotions import fetch_promotion


class PromotionRefused(Exception):
    """The promotion cannot have a campaign (ended, cancelled)."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


class CampaignNotFound(Exception):
    pass


class CampaignsNotConfigured(Exception):
    """No UNSUBSCRIBE_SECRET: an email campaign could not carry its unsubscribe link."""


class CampaignNotMovable(Exception):
    """Paused while not scheduled or running, resumed while not paused."""

    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status


@dataclass(frozen=True)
class Campaigns:
    settings: Settings
    pool: asyncpg.Pool
    http: ClientSession
    # Set when a campaign may have become due here: this replica's runner looks at once
    # instead of at its next poll (the others still find it at theirs).
    due: asyncio.Event

    async def create(
        self,
        promotion_id: UUID,
        channel: Channel,
        scheduled_at: datetime | None,
        created_by: UUID,
    ) -> dict[str, Any]:
        if channel == "email" and not self.settings.unsubscribe_secret.get_secret_value():
            raise CampaignsNotConfigured
        status, facts = await fetch_promotion(
            self.http,
            self.settings.catalog_url,
            self.settings.internal_token.get_secret_value(),
            promotion_id,
        )
        now = datetime.now(UTC)
        if status in ("ended", "cancelled") or facts.ends_at <= now:
            raise PromotionRefused("ended" if status != "cancelled" else status)
        async with self.pool.acquire() as conn:
            row = await storage.insert_campaign(
                conn,
                campaign_id=uuid4(),
                promotion_id=promotion_id,
                channel=channel,
                # Never before the promotion starts: the message says it is on.
                scheduled_at=max(scheduled_at or now, facts.starts_at),
                created_by=created_by,
                promotion=facts.model_dump(mode="json"),
            )
        self.due.set()
        return view(row)

    async def get(self, campaign_id: UUID) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            row = await storage.campaign(conn, campaign_id)
        if row is None:
            raise CampaignNotFound
        return view(row)

    async def list(self, limit: int, before: datetime | None) -> list[dict[str, Any]]:
        async with self.pool.acquire() as conn:
            rows = await storage.campaigns(conn, limit, before)
        return [view(row) for row in rows]

    async def pause(self, campaign_id: UUID) -> dict[str, Any]:
        return await self._move(campaign_id, PAUSABLE, "paused")

    async def resume(self, campaign_id: UUID) -> dict[str, Any]:
        resumed = await self._move(campaign_id, RESUMABLE, "running")
        self.due.set()
        return resumed

    async def _move(
        self, campaign_id: UUID, from_statuses: frozenset[str], to: str
    ) -> dict[str, Any]:
        async with self.pool.acquire() as conn:
            row = await storage.move(conn, campaign_id, from_statuses, to)
            if row is None:
                current = await storage.status_of(conn, campaign_id)
                if current is None:
                    raise CampaignNotFound
                raise CampaignNotMovable(current)
        return view(row)


def _at(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def view(row: asyncpg.Record) -> dict[str, Any]:
    """A campaign as the API shows it: its progress in counts, never a person."""
    failed: dict[str, int] = row["failed"]
    return {
        "id": str(row["id"]),
        "status": row["status"],
        "channel": row["channel"],
        "promotion_id": str(row["promotion_id"]),
        "promotion": row["promotion"],
        "scheduled_at": _at(row["scheduled_at"]),
        "created_at": _at(row["created_at"]),
        "created_by": str(row["created_by"]),
        "audience": row["audience"],
        "sent": row["sent"],
        "failed": sum(failed.values()),
        "failures": failed,
        "skipped": row["skipped"],
        "waiting": {"until": _at(row["held_until"]), "reason": row["held_for"]}
        if row["held_until"]
        else None,
        "started_at": _at(row["started_at"]),
        "finished_at": _at(row["finished_at"]),
        "ended_reason": row["ended_reason"],
    }
