"""The erasure's confirmation, the use case: ``POST /internal/erasure-confirmations``.

The customers service calls it right before it shreds a customer's data, with the address
and first name it has just released for this one mail (its register says so); the mail goes
while the request waits, and nothing of the person is kept: the delivery log's row names
no customer and no release (as erasure leaves every other row), only the kind and the
erasure request, which also makes it once per request. The mail server away is a 503, and
customers goes on with the erasure without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from uuid import UUID, uuid4

from pydantic import BaseModel, ConfigDict, Field

from services.notifications import storage
from services.notifications.domain import (
    Delivery,
    Kind,
    Status,
    build_email,
    erasure_context,
    pick_locale,
)
from services.notifications.mailer import MailRejected, deliver
from services.notifications.notifier import Notifier
from shared.logging import get_logger

log = get_logger("notifications.erasure_confirmation")
KIND: Kind = "erasure_confirmation"


class ErasureConfirmation(BaseModel):
    """The body customers sends: the erasure request and the released contact."""

    model_config = ConfigDict(extra="forbid", frozen=True)
    request_id: UUID
    locale: str | None = Field(default=None, max_length=8)
    # No control characters: SMTP refuses them in a command (they were a 500).
    email: str = Field(pattern=r"^[^@\s\x00-\x1f\x7f]+@[^@\s\x00-\x1f\x7f]+$", max_length=320)
    first_name: str | None = Field(default=None, max_length=200)


@dataclass(frozen=True)
class Outcome:
    status: Status | None  # None: already sent for this request, nothing done


async def send(notifier: Notifier, body: ErasureConfirmation) -> Outcome:
    """Send the confirmation now (``MailUnavailable`` when the server cannot take it)."""
    reference = str(body.request_id)
    async with notifier.pool.acquire() as conn:
        if await storage.sent_for_reference(conn, KIND, reference):
            return Outcome(None)
        locale = pick_locale(body.locale)
        notification_id = uuid4()
        rendered = notifier.renderer.render(
            KIND, locale, erasure_context(body.request_id, body.first_name)
        )
        mail = build_email(
            mail_from=notifier.settings.mail_from,
            to=body.email,
            rendered=rendered,
            locale=locale,
            notification_id=notification_id,
            now=datetime.now(UTC),
        )
        status: Status = "sent"
        async with notifier.smtp.session() as smtp:
            try:
                await deliver(smtp, mail)
            except MailRejected:
                status = "failed"
        await storage.record_delivery(
            conn,
            Delivery(
                notification_id=notification_id,
                customer_id=None,
                kind=KIND,
                channel="email",
                template=KIND,
                locale=locale,
                status=status,
                order_ref=None,
                message_id=body.request_id,
                reason=None if status == "sent" else "recipient_refused",
                reference=reference,
            ),
        )
    log.info("erasure confirmation", request_id=reference, status=status)
    return Outcome(status)
