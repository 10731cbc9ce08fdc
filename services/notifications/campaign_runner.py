"""The use case that sends campaigns: driven by the database, not by the broker.

Every replica runs one runner. It leases a due campaign (``FOR UPDATE SKIP LOCKED`` and a
lease with an owner and an expiry, renewed at each batch: two replicas never run one
campaign at once; a replica that died frees it when the lease runs out), asks customers for
the audience once, then batch after batch (``POST /internal/contact-batches`` after the
cursor; customers decides at batch time who may be reached, so a consent withdrawn or a
block made mid-campaign keeps the customer out of the later batches):

1. in one transaction: recipients the campaign already has a row for are passed over, those
   blocked here too (``shared.blocking``) or suppressed here (``suppression.py``: refused for
   good, customers not told yet) are recorded ``skipped``/``blocked``/``suppressed``, the
   others are claimed (a ``sending`` row each, unique per campaign and customer);
2. the batch's messages are made ready (composed, signed), then go,
   ``campaign_concurrency`` at a time; before each one the runner looks whether it should
   stop (paused, shutting down, SMS quiet hours begun);
3. in one transaction: each claim settled (``sent``/``failed``), the claims whose message
   never went deleted (they go with a later batch), the counts added, the cursor moved past
   the batch's done prefix, the lease renewed.

At most once per person: a claim found still ``sending`` when a runner takes the campaign
(its process stopped between a send and step 3) is counted failed ``unknown_after_restart``
and never sent again. A graceful shutdown (SIGTERM) lets the messages in flight finish and
settles them first, so normally nothing is lost that way.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from uuid import UUID, uuid4

import asyncpg

from services.notifications import campaign_storage as storage
from services.notifications import suppression
from services.notifications.audiences import Audiences, Batch, CustomersUnavailable
from services.notifications.campaign_channels import REFUSED, Message, Ready, Sender
from services.notifications.campaign_domain import (
    UNKNOWN_AFTER_RESTART,
    Outcome,
    PromotionFacts,
    Recipient,
    cursor_after,
    promotion_over,
)
from services.notifications.config import Settings
from services.notifications.domain import Channel
from services.notifications.quiet_hours import held_until
from services.notifications.suppression import Reason
from shared import blocking
from shared.db import DbConn
from shared.logging import get_logger

log = get_logger("notifications.campaigns")


@dataclass
class Campaign:
    id: UUID
    channel: Channel
    facts: PromotionFacts
    cursor: UUID | None
    audience: int | None

    @classmethod
    def of(cls, row: asyncpg.Record) -> Campaign:
        return cls(
            id=row["id"],
            channel=row["channel"],
            facts=PromotionFacts.model_validate(row["promotion"]),
            cursor=row["after_customer"],
            audience=row["audience"],
        )


@dataclass
class Stop:
    """Why the runner stops sending (the first reason wins), or None to go on."""

    reason: str | None = None

    def set(self, reason: str) -> None:
        self.reason = self.reason or reason


@dataclass
class CampaignRunner:
    settings: Settings
    pool: asyncpg.Pool
    audiences: Audiences
    senders: dict[str, Sender]
    due: asyncio.Event  # set by this replica's marketer use cases (``Campaigns``)
    owner: UUID = field(default_factory=uuid4)

    async def run(self, stopping: asyncio.Event) -> None:
        """Until ``stopping`` is set: run each due campaign, else wait a little."""
        while not stopping.is_set():
            self.due.clear()
            try:
                worked = await self.run_once(stopping)
            except Exception as exc:  # the database away, a bug: log, wait, go on
                log.warning("campaign runner step failed", error=type(exc).__name__)
                worked = False
            if not worked:
                await self._idle(stopping)

    async def _idle(self, stopping: asyncio.Event) -> None:
        """Until the next poll, a stop, or a campaign made or resumed here."""
        waits = {asyncio.ensure_future(stopping.wait()), asyncio.ensure_future(self.due.wait())}
        try:
            await asyncio.wait(
                waits, timeout=self.settings.campaign_poll_s, return_when=asyncio.FIRST_COMPLETED
            )
        finally:
            for waiting in waits:
                waiting.cancel()

    async def run_once(self, stopping: asyncio.Event) -> bool:
        """Lease one due campaign and run it as far as it goes now; False when none is due."""
        async with self.pool.acquire() as conn, conn.transaction():
            row = await storage.take_due(conn, self.owner, self.settings.campaign_lease_s)
            if row is None:
                return False
            stale = await storage.settle_stale_claims(conn, row["id"])
            if stale:
                await storage.add_counts(conn, row["id"], failed={UNKNOWN_AFTER_RESTART: stale})
                log.warning(
                    "claims without an outcome after a restart: counted failed, not resent",
                    campaign_id=str(row["id"]),
                    count=stale,
                )
        campaign = Campaign.of(row)
        try:
            await self._run(campaign, stopping)
        except CustomersUnavailable as exc:
            log.warning("customers unavailable", campaign_id=str(campaign.id), error=str(exc))
            await self._release(campaign, "customers_unavailable")
        except Exception as exc:  # held a while, not retried at once (each batch is a release)
            log.error(
                "campaign step failed", campaign_id=str(campaign.id), error=type(exc).__name__
            )
            await self._release(campaign, "error")
        except BaseException:
            await self._release(campaign)
            raise
        return True

    async def _run(self, campaign: Campaign, stopping: asyncio.Event) -> None:
        if campaign.audience is None:
            campaign.audience = await self.audiences.count(campaign.channel)
            async with self.pool.acquire() as conn:
                await storage.set_audience(conn, campaign.id, campaign.audience)
            log.info("campaign started", campaign_id=str(campaign.id), audience=campaign.audience)
        while True:
            if stopping.is_set() or await self._status(campaign) != "running":
                await self._release(campaign)
                return
            if promotion_over(campaign.facts, datetime.now(UTC)):
                await self._finish(campaign, "cancelled", "promotion_ended")
                return
            if (held := self._quiet_until(campaign)) is not None:
                await self._release(campaign, "quiet_hours", held)
                return
            batch = await self.audiences.batch(
                campaign.channel, campaign.id, campaign.cursor, self.settings.campaign_batch_size
            )
            stop = await self._send_batch(campaign, batch, stopping)
            if stop.reason is not None:
                await self._stopped(campaign, stop.reason)
                return
            if batch.next_after is None:
                await self._finish(campaign, "completed")
                return

    async def _send_batch(self, campaign: Campaign, batch: Batch, stopping: asyncio.Event) -> Stop:
        recipients = batch.recipients
        ids = [r.customer_id for r in recipients]
        async with self.pool.acquire() as conn, conn.transaction():
            known = await storage.known_recipients(conn, campaign.id, ids)
            fresh = [r for r in recipients if r.customer_id not in known]
            fresh_ids = [r.customer_id for r in fresh]
            blocked_ids = await blocking.blocked_among(conn, fresh_ids)
            # Refused for good here before customers has taken the suppression in.
            suppressed_ids = await suppression.suppressed(conn, fresh_ids, campaign.channel)
            suppressed_ids -= blocked_ids
            for reason, skip in (("blocked", blocked_ids), ("suppressed", suppressed_ids)):
                skipped = [r for r in fresh if r.customer_id in skip]
                await storage.add_recipients(
                    conn, campaign.id, campaign.channel, skipped, "skipped", reason
                )
                if skipped:
                    await storage.add_counts(conn, campaign.id, skipped={reason: len(skipped)})
            blocked_ids |= suppressed_ids
            wanted = [r for r in fresh if r.customer_id not in blocked_ids]
            claims = await storage.add_recipients(
                conn, campaign.id, campaign.channel, wanted, "sending"
            )
        claimed = [r for r in wanted if r.customer_id in claims]
        stop = Stop()
        outcomes: dict[UUID, Outcome] = {}
        try:
            await self._send_all(campaign, claimed, claims, outcomes, stop, stopping)
        finally:
            done = known | blocked_ids | set(outcomes) | (set(ids) - set(claims) - blocked_ids)
            cursor = cursor_after(campaign.cursor, ids, done)
            if stop.reason is None and batch.next_after is not None:
                cursor = batch.next_after
            unsent = [r.customer_id for r in claimed if r.customer_id not in outcomes]
            if not await self._settle(campaign, outcomes, unsent, cursor):
                stop.set("lease_lost")
        campaign.cursor = cursor
        return stop

    async def _send_all(
        self,
        campaign: Campaign,
        claimed: Sequence[Recipient],
        claims: dict[UUID, UUID],
        outcomes: dict[UUID, Outcome],
        stop: Stop,
        stopping: asyncio.Event,
    ) -> None:
        waiting = iter(self._prepare(campaign, claimed, claims, outcomes))

        async def worker() -> None:
            for customer_id, send in waiting:  # shared: each worker takes the next message
                if stop.reason is None and stopping.is_set():
                    stop.set("stopping")
                if stop.reason is None and self._quiet_until(campaign) is not None:
                    stop.set("quiet_hours")
                if stop.reason is not None:
                    return
                try:
                    outcome = await send()
                except Exception as exc:  # a bug in the sender (it maps the server's own errors)
                    log.error("campaign message failed", error=type(exc).__name__)
                    outcome = Outcome("failed", "error")
                if outcome is None:
                    stop.set("unavailable")
                    return
                outcomes[customer_id] = outcome

        watch = asyncio.create_task(self._watch_status(campaign, stop))
        try:
            # A graceful stop (``stopping``) ends the workers at their next message; a
            # cancellation still lets the messages in flight finish (shield) to be settled.
            workers = asyncio.gather(*(worker() for _ in range(self.settings.campaign_concurrency)))
            try:
                await asyncio.shield(workers)
            except asyncio.CancelledError:  # a stop past the grace time: no new message
                stop.set("stopping")
                await asyncio.wait({workers})
                raise
        finally:
            watch.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watch

    def _prepare(
        self,
        campaign: Campaign,
        claimed: Sequence[Recipient],
        claims: dict[UUID, UUID],
        outcomes: dict[UUID, Outcome],
    ) -> list[tuple[UUID, Ready]]:
        """The batch's messages made ready, in order; one that cannot be is failed here."""
        sender = self.senders[campaign.channel]
        ready: list[tuple[UUID, Ready]] = []
        for recipient in claimed:
            message = Message(
                campaign.id,
                campaign.channel,
                campaign.facts,
                recipient,
                claims[recipient.customer_id],
            )
            try:
                ready.append((recipient.customer_id, sender.prepare(message)))
            except Exception as exc:  # a bug in composing: this one fails, the others go
                log.error("campaign message failed", error=type(exc).__name__)
                outcomes[recipient.customer_id] = Outcome("failed", "error")
        return ready

    async def _watch_status(self, campaign: Campaign, stop: Stop) -> None:
        """A pause (from any replica) stops the sending at the next message."""
        while stop.reason is None:
            await asyncio.sleep(self.settings.campaign_status_poll_s)
            status = await self._status(campaign)
            if status != "running":
                stop.set(status or "gone")

    async def _settle(
        self,
        campaign: Campaign,
        outcomes: dict[UUID, Outcome],
        unsent: list[UUID],
        cursor: UUID | None,
    ) -> bool:
        failed = [o.reason or "error" for o in outcomes.values() if o.status == "failed"]
        counts: dict[str, int] = {}
        for reason in failed:
            counts[reason] = counts.get(reason, 0) + 1
        sent = sum(1 for o in outcomes.values() if o.status == "sent")
        async with self.pool.acquire() as conn, conn.transaction():
            await storage.settle(conn, campaign.id, outcomes)
            await storage.unclaim(conn, campaign.id, unsent)
            await storage.add_counts(conn, campaign.id, sent=sent, failed=counts)
            await self._suppress_refused(conn, campaign, outcomes)
            kept = await storage.advance(
                conn, campaign.id, self.owner, cursor, self.settings.campaign_lease_s
            )
        log.info(
            "campaign batch",
            campaign_id=str(campaign.id),
            sent=sent,
            failed=len(failed),
            not_sent=len(unsent),
        )
        return kept

    async def _suppress_refused(
        self, conn: DbConn, campaign: Campaign, outcomes: dict[UUID, Outcome]
    ) -> None:
        """A contact refused for good gets no more marketing on that channel."""
        for customer_id, outcome in outcomes.items():
            if outcome.reason == REFUSED:
                reason: Reason = (
                    "hard_bounce" if campaign.channel == "email" else "provider_rejected"
                )
                await suppression.suppress(conn, customer_id, campaign.channel, reason)

    def _quiet_until(self, campaign: Campaign) -> datetime | None:
        if campaign.channel != "sms":
            return None
        return held_until(
            datetime.now(UTC),
            self.settings.sms_timezone,
            self.settings.sms_quiet_start,
            self.settings.sms_quiet_end,
        )

    async def _stopped(self, campaign: Campaign, reason: str) -> None:
        if reason == "quiet_hours":
            await self._release(campaign, "quiet_hours", self._quiet_until(campaign))
        elif reason == "unavailable":
            retry = datetime.now(UTC) + timedelta(seconds=self.settings.campaign_retry_s)
            log.warning(
                "campaign waits: the server cannot take messages now", campaign_id=str(campaign.id)
            )
            await self._release(campaign, f"{campaign.channel}_unavailable", retry)
        elif reason != "lease_lost":
            await self._release(campaign)

    async def _status(self, campaign: Campaign) -> str | None:
        async with self.pool.acquire() as conn:
            return await storage.status_of(conn, campaign.id)

    async def _release(
        self, campaign: Campaign, held_for: str | None = None, until: datetime | None = None
    ) -> None:
        if held_for and until is None:
            until = datetime.now(UTC) + timedelta(seconds=self.settings.campaign_retry_s)
        async with self.pool.acquire() as conn:
            await storage.release(conn, campaign.id, self.owner, until, held_for)

    async def _finish(self, campaign: Campaign, status: str, reason: str | None = None) -> None:
        async with self.pool.acquire() as conn:
            await storage.finish(conn, campaign.id, self.owner, status, reason)
        log.info("campaign ended", campaign_id=str(campaign.id), status=status, reason=reason)
