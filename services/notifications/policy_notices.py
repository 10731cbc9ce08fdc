"""The new-policy notice, the use case (policy 5.8): every active customer is told, once.

``PolicyPublished`` opens a notice (``policy_notices``, in the consumer's transaction). A
runner, one at a time across replicas (a PostgreSQL advisory lock), walks the customers
service's contact batches (``POST /internal/contact-batches``, purpose
``service_communication``: every customer neither blocked nor erased, a page at a time in
customer id order, each item a release in that customer's register naming the notice), so
no more than one page is ever in memory. Per customer: a row of the delivery log is claimed
(status ``failed``, reason ``sending``) before the mail goes and settled after it, each in its
own transaction; a customer with any row for the version is never sent it again, so a
restart, a second replica or a redelivered event sends nobody the notice twice (a claim a
crash left unsettled stays failed: at most once). The walk goes on after the highest
customer id logged for the version. The mail server away: the claim is dropped (the message
did not go) and the run stops until the next round. Blocked customers are not in the
batches (the notice is not owed while processing is stopped; the account asks them to accept
the new version at their next sign-in, like everyone).
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from uuid import UUID, uuid4

import aiosmtplib
from aiohttp import web

from services.notifications import storage
from services.notifications.domain import Kind, PolicyNotice, Release, Status, delivery_for
from services.notifications.keys import NOTIFIER
from services.notifications.mailer import MailRejected, MailUnavailable, deliver
from services.notifications.notifier import Notifier
from services.notifications.releases import request_contact_batch
from shared import blocking
from shared.background import CleanupCtx, task_ctx
from shared.contracts import PolicyPublished
from shared.db import DbConn
from shared.logging import get_logger

log = get_logger("notifications.policy_notices")
KIND: Kind = "policy_published"
# One runner at a time, whichever replica: the key of its session-level advisory lock.
_LOCK_KEY = 0x6E6F_7469_6365  # "notice"


async def on_policy_published(conn: DbConn, event: PolicyPublished) -> None:
    """Open the notice of a new version (a redelivered event opens nothing)."""
    if await storage.open_policy_notice(conn, event.version, uuid4(), event.effective_date):
        log.info("policy notice opened", version=event.version)


@dataclass(frozen=True)
class Walk:
    sent: int = 0
    skipped: int = 0
    finished: bool = False


async def run_once(notifier: Notifier) -> Walk:
    """One page of the oldest unfinished notice, if this replica holds the runner's lock."""
    async with notifier.pool.acquire() as conn:
        if not await conn.fetchval("SELECT pg_try_advisory_lock($1)", _LOCK_KEY):
            return Walk()
        try:
            notice = await storage.unfinished_policy_notice(conn)
            return await _one_page(notifier, conn, notice) if notice else Walk()
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)


async def _one_page(notifier: Notifier, conn: DbConn, notice: PolicyNotice) -> Walk:
    settings = notifier.settings
    after = await storage.policy_notice_progress(conn, notice.version)
    # The session first: a mail server that is down costs no page of releases.
    async with notifier.smtp.session() as smtp:
        while True:
            batch = await request_contact_batch(
                notifier.http,
                settings.customers_url,
                settings.internal_token.get_secret_value(),
                reference=notice.notice_id,
                after=after,
                limit=settings.policy_notice_batch,
            )
            # A page may hold nobody (none there with an address): the next one, then.
            if batch.releases or batch.next_after is None:
                break
            after = batch.next_after
        sent = skipped = 0
        for customer_id, release in batch.releases:
            if await _send_one(notifier, conn, smtp, notice, customer_id, release):
                sent += 1
            else:
                skipped += 1
    finished = batch.next_after is None
    if finished:
        await storage.finish_policy_notice(conn, notice.version)
    log.info(
        "policy notice page", version=notice.version, sent=sent, skipped=skipped, done=finished
    )
    return Walk(sent, skipped, finished)


async def _send_one(
    notifier: Notifier,
    conn: DbConn,
    smtp: aiosmtplib.SMTP,
    notice: PolicyNotice,
    customer_id: UUID,
    release: Release,
) -> bool:
    """Claim, send, settle; False when this customer was already claimed or is blocked."""
    request = notice.request_for(customer_id)
    if await storage.has_delivery(conn, KIND, customer_id, notice.version):
        return False
    notification_id = uuid4()
    status: Status = "skipped" if await blocking.is_blocked(conn, customer_id) else "failed"
    claim = delivery_for(
        request,
        notification_id=notification_id,
        message_id=notice.notice_id,
        status=status,
        release=release,
        reason="blocked" if status == "skipped" else "sending",
    )
    await storage.record_delivery(conn, claim)
    if status == "skipped":
        return False
    try:
        await deliver(smtp, notifier.compose(request, release, notification_id))
    except MailRejected:
        await storage.settle_delivery(conn, notification_id, "failed", "recipient_refused")
        return False
    except MailUnavailable:
        await storage.drop_claim(conn, notification_id)  # it did not go: the next round
        raise
    await storage.settle_delivery(conn, notification_id, "sent", None)
    return True


def policy_notices_ctx(interval_s: float) -> CleanupCtx:
    """The runner, for the app's life: page after page while there is work, else it waits."""

    async def forever(app: web.Application) -> None:
        while True:
            walk = Walk()
            try:
                walk = await run_once(app[NOTIFIER])
            except Exception as exc:  # logged by its kind, tried again next round
                log.warning("policy notice round failed", error=type(exc).__name__)
            if walk.finished or not (walk.sent or walk.skipped):
                await asyncio.sleep(interval_s)

    return task_ctx("policy-notices", forever)
