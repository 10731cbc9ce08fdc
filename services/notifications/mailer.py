"""Sending through SMTP with aiosmtplib; errors come out without the addresses in them."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from email.message import EmailMessage

import aiosmtplib

from services.notifications.config import Settings


class MailUnavailable(Exception):
    """The mail server cannot take the message now: retry later."""


class MailRejected(Exception):
    """The mail server refused the recipient for good (5xx): retrying will not help."""


@contextlib.asynccontextmanager
async def smtp_connection(settings: Settings) -> AsyncIterator[aiosmtplib.SMTP]:
    """An open SMTP session; opened before the contact is released, so a server that is
    down costs no release."""
    client = aiosmtplib.SMTP(
        hostname=settings.smtp_host,
        port=settings.smtp_port,
        start_tls=settings.smtp_starttls,
        timeout=settings.smtp_timeout_s,
    )
    try:
        await client.connect()
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailUnavailable(f"cannot connect: {type(exc).__name__}") from None
    try:
        yield client
    finally:
        with contextlib.suppress(aiosmtplib.SMTPException, OSError):
            await client.quit()


async def deliver(client: aiosmtplib.SMTP, message: EmailMessage) -> None:
    try:
        await client.send_message(message)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        if codes and all(code >= 500 for code in codes):
            raise MailRejected(f"recipient refused ({codes[0]})") from None
        raise MailUnavailable(f"recipient deferred ({codes[0] if codes else '?'})") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise MailUnavailable(f"server answered {exc.code}") from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailUnavailable(type(exc).__name__) from None
