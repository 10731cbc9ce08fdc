"""Sending through SMTP with aiosmtplib; errors come out without the addresses in them.

Sessions are kept open and reused: opening one (TCP, greeting, EHLO, maybe STARTTLS) costs
more than the message sent in it. A session that saw any error is closed, never reused.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator

import aiosmtplib
from opentelemetry import trace

from services.notifications.config import Settings
from services.notifications.domain import OutgoingMail


class MailUnavailable(Exception):
    """The mail server cannot take the message now: retry later."""


class MailRejected(Exception):
    """The mail server refused the recipient for good (5xx): retrying will not help."""


class SmtpSessions:
    """Open SMTP sessions to the configured server, handed out one at a time."""

    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []  # (session, idle since)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[aiosmtplib.SMTP]:
        """An open session; opened before the contact is released, so a server that is down
        costs no release. It goes back to the idle set only if nothing went wrong in it."""
        client = self._take_idle() or await self._connect()
        try:
            yield client
        except BaseException:
            await _close(client)
            raise
        if len(self._idle) < self._settings.smtp_idle_sessions and client.is_connected:
            self._idle.append((client, time.monotonic()))
        else:
            await _close(client)

    def _take_idle(self) -> aiosmtplib.SMTP | None:
        # Sessions the server closed, or idle long enough that it may be about to, go.
        oldest = time.monotonic() - self._settings.smtp_idle_timeout_s
        while self._idle:
            client, since = self._idle.pop()
            if client.is_connected and since > oldest:
                return client
            client.close()
        return None

    async def _connect(self) -> aiosmtplib.SMTP:
        client = aiosmtplib.SMTP(
            hostname=self._settings.smtp_host,
            port=self._settings.smtp_port,
            start_tls=self._settings.smtp_starttls,
            timeout=self._settings.smtp_timeout_s,
        )
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError) as exc:
            raise MailUnavailable(f"cannot connect: {type(exc).__name__}") from None
        return client

    async def close(self) -> None:
        idle, self._idle = self._idle, []
        for client, _since in idle:
            await _close(client)


async def _close(client: aiosmtplib.SMTP) -> None:
    if not client.is_connected:
        return
    try:
        await client.quit(timeout=2)
    except (aiosmtplib.SMTPException, OSError):
        client.close()


async def deliver(client: aiosmtplib.SMTP, mail: OutgoingMail) -> None:
    # A span of the mail's trace: the server, never the sender or recipient.
    with trace.get_tracer(__name__).start_as_current_span(
        "smtp send",
        kind=trace.SpanKind.CLIENT,
        attributes={"server.address": client.hostname or "", "server.port": client.port or 0},
    ):
        await _send(client, mail)


async def _send(client: aiosmtplib.SMTP, mail: OutgoingMail) -> None:
    options = ["SMTPUTF8"] if mail.international else []
    try:
        await client.sendmail(mail.sender, [mail.recipient], mail.data, mail_options=options)
    except aiosmtplib.SMTPRecipientsRefused as exc:
        codes = [refused.code for refused in exc.recipients]
        if codes and all(code >= 500 for code in codes):
            raise MailRejected(f"recipient refused ({codes[0]})") from None
        raise MailUnavailable(f"recipient deferred ({codes[0] if codes else '?'})") from None
    except aiosmtplib.SMTPResponseException as exc:
        raise MailUnavailable(f"server answered {exc.code}") from None
    except (aiosmtplib.SMTPException, OSError) as exc:
        raise MailUnavailable(type(exc).__name__) from None
