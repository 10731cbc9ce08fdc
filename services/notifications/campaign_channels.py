"""How one campaign message goes out, per channel: an email through the SMTP sessions, or a
text through the SMS provider. A sender makes each message ready first (``prepare``: the
mail composed, its link signed; the runner does it for a whole batch before the first goes,
which costs about half the CPU of composing each between two sends). Sending it answers an
``Outcome`` (sent, or failed for good), or None when the server or provider could not take
it now (the message is not sent, and the campaign waits a while before it tries again). The
contact is used for this message only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol
from uuid import UUID

from services.notifications.campaign_domain import (
    Outcome,
    PromotionFacts,
    Recipient,
    message_context,
    sms_text,
)
from services.notifications.campaign_mail import MailShape, Render, ShapeCache, make_shape
from services.notifications.config import Settings
from services.notifications.domain import (
    Channel,
    Locale,
    OutgoingMail,
    RenderedMail,
    build_email,
)
from services.notifications.mailer import MailRejected, MailUnavailable, SmtpSessions, deliver
from services.notifications.rendering import Renderer
from services.notifications.sms import SmsClient, SmsRejected, SmsUnavailable
from services.notifications.unsubscribe_links import (
    Unsubscribe,
    list_unsubscribe_headers,
    make_token,
    unsubscribe_url,
)

TEMPLATE = "campaign"
REFUSED = "recipient_refused"  # the delivery log's reason of a contact refused for good
# RFC 3834: an automatic responder (a vacation reply) does not answer bulk mail.
BULK_HEADERS = {"Precedence": "bulk"}


@dataclass(frozen=True)
class Message:
    campaign_id: UUID
    channel: Channel
    facts: PromotionFacts
    recipient: Recipient
    notification_id: UUID


# A message made ready (composed, its link signed): awaiting it sends it, with retries.
Ready = Callable[[], Awaitable[Outcome | None]]


class Sender(Protocol):
    def prepare(self, message: Message) -> Ready: ...


async def _with_retries(settings: Settings, attempt_once: _Attempt) -> Outcome | None:
    """A transient refusal is tried again, a few times and a little later each time."""
    for attempt in range(1, settings.campaign_send_attempts + 1):
        outcome = await attempt_once(attempt)
        if outcome is not None:
            return outcome
        if attempt < settings.campaign_send_attempts:
            await asyncio.sleep(0.2 * attempt)
    return None


class _Attempt(Protocol):
    async def __call__(self, attempt: int) -> Outcome | None: ...


@dataclass(frozen=True)
class EmailSender:
    settings: Settings
    renderer: Renderer
    smtp: SmtpSessions
    shapes: ShapeCache = field(default_factory=ShapeCache)

    def prepare(self, message: Message) -> Ready:
        mail = self.compose(message)

        async def once(attempt: int) -> Outcome | None:
            try:
                async with self.smtp.session() as client:
                    await deliver(client, mail)
            except MailRejected:
                return Outcome("failed", REFUSED, attempt)
            except MailUnavailable:
                return None
            return Outcome("sent", None, attempt)

        return lambda: _with_retries(self.settings, once)

    def compose(self, message: Message, now: datetime | None = None) -> OutgoingMail:
        """The recipient's parts filled into the campaign's shape for the locale (made at its
        first mail); composed whole when the shape does not fit."""
        recipient = message.recipient
        now = now or datetime.now(UTC)
        link = self.unsubscribe_link(message, now)
        has_name = bool(recipient.first_name)
        shape = self.shapes.get(
            (message.campaign_id, recipient.locale, has_name),
            lambda: self.shape(message.facts, recipient.locale, has_name),
        )
        if shape is not None and shape.fits(recipient.first_name, link):
            return shape.fill(
                to=recipient.contact,
                first_name=recipient.first_name,
                link=link,
                notification_id=message.notification_id,
                now=now,
            )
        rendered, headers = self.render(message.facts, recipient.locale)(recipient.first_name, link)
        return build_email(
            mail_from=self.settings.mail_from,
            to=recipient.contact,
            rendered=rendered,
            locale=recipient.locale,
            notification_id=message.notification_id,
            now=now,
            headers=headers,
        )

    def shape(self, facts: PromotionFacts, locale: Locale, has_name: bool) -> MailShape:
        return make_shape(
            mail_from=self.settings.mail_from,
            locale=locale,
            has_name=has_name,
            link_prefix=unsubscribe_url(self.settings.public_base_url, ""),
            render=self.render(facts, locale),
        )

    def render(self, facts: PromotionFacts, locale: Locale) -> Render:
        shop_url = self.settings.public_base_url.rstrip("/")

        def render(first_name: str | None, link: str) -> tuple[RenderedMail, Mapping[str, str]]:
            context = message_context(facts, first_name, shop_url, link)
            rendered = self.renderer.render(TEMPLATE, locale, context)
            return rendered, {**list_unsubscribe_headers(link), **BULK_HEADERS}

        return render

    def unsubscribe_link(self, message: Message, now: datetime | None = None) -> str:
        token = make_token(
            self.settings.unsubscribe_secret.get_secret_value(),
            Unsubscribe(message.recipient.customer_id, message.channel, message.campaign_id),
            days=self.settings.unsubscribe_link_days,
            now=now,
        )
        return unsubscribe_url(self.settings.public_base_url, token)


@dataclass(frozen=True)
class SmsSender:
    settings: Settings
    client: SmsClient

    def prepare(self, message: Message) -> Ready:
        text = sms_text(message.facts, message.recipient.locale, self.settings.sms_stop_number)

        async def once(attempt: int) -> Outcome | None:
            try:
                # The message id makes a repeat after a lost answer send nothing more.
                await self.client.send(message.recipient.contact, text, message.notification_id)
            except SmsRejected:
                return Outcome("failed", REFUSED, attempt)
            except SmsUnavailable:
                return None
            return Outcome("sent", None, attempt)

        return lambda: _with_retries(self.settings, once)
