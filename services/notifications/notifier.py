"""The use case: an event becomes one email, sent with a contact released just for it.

Order of work for one notification: already sent? -> blocked and not owed (``skipped``)? ->
take an SMTP session -> ask customers for a release -> render in the customer's locale ->
send -> log the delivery (no address).
Refused release: ``skipped``. Recipient refused for good: ``failed``, and the contact
suppressed (``suppression``: a hard bounce). Anything transient raises, so the inbox
transaction rolls back and the message is retried; on the channel's last attempt
(``retry_policy``) a ``failed`` row is written apart (the message then waits in the dead
queue for a replay).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

import aiosmtplib
import asyncpg
from aiohttp import ClientSession

from services.notifications import storage, suppression
from services.notifications.config import Settings
from services.notifications.domain import (
    Delivery,
    NotificationRequest,
    OutgoingMail,
    Release,
    Status,
    build_email,
    delivery_for,
    mail_id,
    request_for,
    skipped_while_blocked,
    template_context,
)
from services.notifications.mailer import MailRejected, MailUnavailable, SmtpSessions, deliver
from services.notifications.releases import ReleaseFailed, ReleaseRefused, request_release
from services.notifications.rendering import Renderer
from shared import blocking
from shared.contracts import Contract
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import IncomingMeta, PermanentFailure

log = get_logger("notifications.messages")


@dataclass(frozen=True)
class Notifier:
    settings: Settings
    renderer: Renderer
    http: ClientSession
    pool: asyncpg.Pool
    smtp: SmtpSessions

    async def handle(self, conn: DbConn, event: Contract, meta: IncomingMeta) -> None:
        request = request_for(event)
        if request is None:
            log.info("notification names no customer", message_type=event.MESSAGE_TYPE)
            return
        await self.notify(conn, request, meta)

    async def notify(self, conn: DbConn, request: NotificationRequest, meta: IncomingMeta) -> None:
        if await storage.already_sent(conn, request):
            log.info("notification already sent", kind=request.kind)
            return
        if skipped_while_blocked(request, await blocking.is_blocked(conn, request.customer_id)):
            await self._record(conn, _logged(request, uuid4(), meta, "skipped", None, "blocked"))
            return
        try:
            async with self.smtp.session() as smtp:
                await self._release_and_send(conn, smtp, request, meta)
        except Exception as exc:
            policy = self.settings.retry_policy()
            if policy.is_last(request.channel, meta.attempt):
                await self._record_failure_apart(request, meta, _failure_reason(exc))
                if policy.park_early(request.channel, meta.attempt):
                    raise PermanentFailure(f"{request.channel} retries used up") from exc
            raise

    async def _release_and_send(
        self,
        conn: DbConn,
        smtp: aiosmtplib.SMTP,
        request: NotificationRequest,
        meta: IncomingMeta,
    ) -> None:
        notification_id = mail_id(meta.message_id, request.kind)
        try:
            release = await request_release(
                self.http,
                self.settings.customers_url,
                self.settings.internal_token.get_secret_value(),
                request,
            )
        except ReleaseRefused as exc:
            await self._record(
                conn, _logged(request, notification_id, meta, "skipped", None, exc.reason)
            )
            return
        message = self.compose(request, release, notification_id)
        try:
            await deliver(smtp, message)
        except MailRejected:
            await self._record(
                conn,
                _logged(request, notification_id, meta, "failed", release, "recipient_refused"),
            )
            await suppression.suppress(conn, request.customer_id, "email", "hard_bounce")
            return
        await self._record(conn, _logged(request, notification_id, meta, "sent", release))

    def compose(
        self, request: NotificationRequest, release: Release, notification_id: UUID
    ) -> OutgoingMail:
        rendered = self.renderer.render(
            request.template,
            release.locale,
            template_context(request, release, self.settings.public_base_url),
        )
        return build_email(
            mail_from=self.settings.mail_from,
            to=release.email,
            rendered=rendered,
            locale=release.locale,
            notification_id=notification_id,
            now=datetime.now(UTC),
        )

    async def _record(self, conn: DbConn, delivery: Delivery) -> None:
        await storage.record_delivery(conn, delivery)
        log.info(
            "notification logged",
            notification_id=str(delivery.notification_id),
            kind=delivery.kind,
            status=delivery.status,
            reason=delivery.reason,
            locale=delivery.locale,
        )

    async def _record_failure_apart(
        self, request: NotificationRequest, meta: IncomingMeta, reason: str
    ) -> None:
        """The inbox transaction is about to roll back: the failure is logged in its own."""
        delivery = _logged(request, uuid4(), meta, "failed", None, reason)
        try:
            async with self.pool.acquire() as conn:
                await self._record(conn, delivery)
        except Exception as exc:
            log.warning("could not log the failed notification", error=type(exc).__name__)


def _logged(
    request: NotificationRequest,
    notification_id: UUID,
    meta: IncomingMeta,
    status: Status,
    release: Release | None = None,
    reason: str | None = None,
) -> Delivery:
    return delivery_for(
        request,
        notification_id=notification_id,
        message_id=meta.message_id,
        status=status,
        release=release,
        reason=reason,
    )


def _failure_reason(exc: Exception) -> str:
    if isinstance(exc, MailUnavailable):
        return "smtp_unavailable"
    if isinstance(exc, ReleaseFailed):
        return "release_failed"
    return "error"
