"""A real SMTP server that keeps the mail it receives in memory, with a small HTTP viewer.

For development (``make up``) and tests: nothing leaves the machine. Use it in-process::

    async with SmtpSink("127.0.0.1", smtp_port=0, http_port=0) as sink:
        ...  # send to sink.smtp_port
        mail = await sink.wait_for(lambda m: "order" in m.subject, timeout=5)

or run it alone: ``python -m deploy.smtp_sink --smtp-port 8025 --http-port 8202``.
The viewer lists the mail as JSON at ``GET /messages`` (envelope, subject, bodies and every
header of each message as ``[{name, value}]`` in order, duplicates kept) and as HTML at ``/``;
``DELETE /messages`` empties the box; ``GET /stats`` counts what it received since it started
(messages and bytes; a benchmark's check). It keeps the last ``max_messages`` only. The sink
holds what it receives (personal data in dev), so it listens on localhost by default and its
SMTP session log is kept quiet.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import functools
import html
import logging
import weakref
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from email import policy
from email.message import EmailMessage
from email.parser import BytesParser
from types import TracebackType
from typing import Any

from aiohttp import web
from aiosmtpd.smtp import SMTP, Envelope, Session

from deploy.standin import wait_for_stop_signal
from shared import eventloop

Predicate = Callable[["ReceivedMail"], bool]


@dataclass(frozen=True)
class ReceivedMail:
    """One message as the sink received it: the envelope and the raw message, parsed when
    first looked at (parsing with the modern email policy costs milliseconds)."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    received_at: datetime

    @functools.cached_property
    def message(self) -> EmailMessage:
        message = BytesParser(policy=policy.default).parsebytes(self.raw)
        assert isinstance(message, EmailMessage)
        return message

    @property
    def subject(self) -> str:
        return str(self.message.get("Subject", ""))

    @property
    def to(self) -> str:
        return str(self.message.get("To", ""))

    def body(self, subtype: str = "plain") -> str:
        part = self.message.get_body(preferencelist=(subtype,))
        if not isinstance(part, EmailMessage):
            return ""
        return str(part.get_content()).replace("\r\n", "\n")

    def headers(self) -> list[dict[str, str]]:
        """Every header of the message as sent: in order, duplicates kept, values decoded
        (RFC 2047 words as text), folding undone."""
        return [{"name": name, "value": str(value)} for name, value in self.message.items()]

    def as_json(self) -> dict[str, Any]:
        return {
            "mail_from": self.mail_from,
            "rcpt_tos": list(self.rcpt_tos),
            "subject": self.subject,
            "to": self.to,
            "date": str(self.message.get("Date", "")),
            "received_at": self.received_at.isoformat(),
            "message_id": str(self.message.get("Message-ID", "")),
            "body": self.body("plain"),
            "html": self.body("html"),
            "headers": self.headers(),
        }


class _Handler:
    """aiosmtpd hooks: refuse recipients when asked to, keep every accepted message."""

    def __init__(self, sink: SmtpSink) -> None:
        self._sink = sink

    async def handle_RCPT(
        self, server: SMTP, session: Session, envelope: Envelope, address: str, options: list[str]
    ) -> str:
        if self._sink.refuse_recipients:
            return self._sink.refuse_recipients
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: SMTP, session: Session, envelope: Envelope) -> str:
        await self._sink.keep(
            ReceivedMail(
                mail_from=envelope.mail_from or "",
                rcpt_tos=tuple(envelope.rcpt_tos),
                raw=envelope.original_content or b"",
                received_at=datetime.now(UTC),
            )
        )
        return "250 Message accepted for delivery"


class _BulkDataSMTP(SMTP):
    """aiosmtpd's server, reading a message's DATA in a few reads instead of one per line.

    aiosmtpd's own DATA loop awaits ``readuntil`` and logs once per line: most of the sink's
    CPU for a multi-kilobyte mail (the benchmarks send thousands a second). This one reads up
    to each ``.<CRLF>`` (LimitOverrunError: the stream's limit is a line's, so longer runs come
    in pieces), and keeps aiosmtpd's answers: 552 past ``data_size_limit``, 500 for a line
    over ``line_length_limit``, the leading dot of a line removed (RFC 5321 4.5.2).
    """

    async def smtp_DATA(self, arg: str) -> None:
        if await self.check_helo_needed() or await self.check_auth_needed("DATA"):
            return
        assert self.envelope is not None
        if not self.envelope.rcpt_tos:
            await self.push("503 Error: need RCPT command")
            return
        if arg:
            await self.push("501 Syntax: DATA")
            return
        await self.push("354 End data with <CR><LF>.<CR><LF>")
        data = bytearray()
        while not (data == b".\r\n" or data.endswith(b"\r\n.\r\n")):
            try:
                data += await self._reader.readuntil(b".\r\n")
            except asyncio.LimitOverrunError as exc:
                data += await self._reader.readexactly(exc.consumed)
        lines = bytes(data[:-3]).split(b"\r\n")
        if self.data_size_limit and len(data) - 3 > self.data_size_limit:
            status = "552 Error: Too much mail data"
        elif max(map(len, lines)) + 2 > self.line_length_limit:
            status = "500 Line too long (see RFC5321 4.5.3.1.6)"
        else:
            content = b"\r\n".join(line[1:] if line[:1] == b"." else line for line in lines)
            self.envelope.content = self.envelope.original_content = content
            status = await self._call_handler_hook("DATA")
        self._set_post_data_state()
        await self.push(status)


class SmtpSink:
    """An SMTP server on the running loop, plus an optional HTTP viewer (``http_port``)."""

    def __init__(
        self,
        host: str = "127.0.0.1",
        smtp_port: int = 0,
        http_port: int | None = None,
        *,
        max_messages: int = 1000,
        quiet: bool = True,
    ) -> None:
        self.host = host
        self.smtp_port = smtp_port
        self.http_port = http_port
        self.max_messages = max_messages
        self.messages: list[ReceivedMail] = []
        # An SMTP reply such as "550 5.1.1 No such user" to refuse every recipient with.
        self.refuse_recipients: str | None = None
        self._arrived = asyncio.Condition()
        self._server: asyncio.Server | None = None
        self._sessions: weakref.WeakSet[SMTP] = weakref.WeakSet()
        self.sessions_opened = 0
        self.received = 0
        self.received_bytes = 0
        self._runner: web.AppRunner | None = None
        if quiet:
            # aiosmtpd logs envelopes and DATA lines: the addresses and texts of the mail.
            logging.getLogger("mail.log").setLevel(logging.WARNING)

    @property
    def http_url(self) -> str:
        return f"http://{self.host}:{self.http_port}"

    async def __aenter__(self) -> SmtpSink:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.stop()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        handler = _Handler(self)

        def session() -> SMTP:
            protocol = _BulkDataSMTP(
                handler, hostname="smtp-sink.local", loop=loop, enable_SMTPUTF8=True
            )
            self._sessions.add(protocol)
            self.sessions_opened += 1
            return protocol

        self._server = await loop.create_server(session, self.host, self.smtp_port)
        self.smtp_port = self._server.sockets[0].getsockname()[1]
        if self.http_port is not None:
            await self._start_viewer()

    async def _start_viewer(self) -> None:
        self._runner = web.AppRunner(self.viewer_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.http_port)
        await site.start()
        server = site._server
        sockets = getattr(server, "sockets", None) or []
        if sockets:
            self.http_port = sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._server is not None:
            self._server.close()
            self.close_sessions()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._server.wait_closed(), 2)
            self._server = None

    def close_sessions(self) -> None:
        """Hang up on every client, as a server does with sessions idle too long."""
        for protocol in self._sessions:
            if protocol.transport is not None:
                protocol.transport.close()

    async def keep(self, mail: ReceivedMail) -> None:
        self.received += 1
        self.received_bytes += len(mail.raw)
        async with self._arrived:
            self.messages.append(mail)
            del self.messages[: -self.max_messages]
            self._arrived.notify_all()

    def clear(self) -> None:
        self.messages.clear()

    def find(self, predicate: Predicate) -> ReceivedMail | None:
        return next((mail for mail in self.messages if predicate(mail)), None)

    async def wait_for(
        self,
        predicate: Predicate = lambda _m: True,
        timeout: float = 5.0,  # noqa: ASYNC109 (the deadline is this helper's contract)
    ) -> ReceivedMail:
        """The first message that fits ``predicate``, waiting up to ``timeout`` seconds."""
        async with asyncio.timeout(timeout), self._arrived:
            await self._arrived.wait_for(lambda: self.find(predicate) is not None)
        found = self.find(predicate)
        assert found is not None
        return found

    def viewer_app(self) -> web.Application:
        app = web.Application()
        app.router.add_get("/", self._html_page)
        app.router.add_get("/messages", self._json_list)
        app.router.add_delete("/messages", self._clear)
        app.router.add_get("/stats", self._stats)
        return app

    async def _stats(self, _request: web.Request) -> web.Response:
        return web.json_response({"received": self.received, "bytes": self.received_bytes})

    async def _json_list(self, _request: web.Request) -> web.Response:
        items = [mail.as_json() for mail in reversed(self.messages)]
        return web.json_response({"messages": items, "count": len(items)})

    async def _clear(self, _request: web.Request) -> web.Response:
        self.clear()
        return web.Response(status=204)

    async def _html_page(self, _request: web.Request) -> web.Response:
        rows = "".join(_html_row(mail) for mail in reversed(self.messages))
        page = (
            "<!doctype html><html><head><meta charset='utf-8'><title>SMTP sink</title>"
            "<style>body{font-family:sans-serif;margin:2em}article{border-bottom:1px solid #ccc;"
            "padding:1em 0}pre{white-space:pre-wrap;background:#f6f6f6;padding:.5em}</style>"
            f"</head><body><h1>SMTP sink: {len(self.messages)} message(s)</h1>"
            f"{rows or '<p>No mail yet.</p>'}</body></html>"
        )
        return web.Response(text=page, content_type="text/html")


def _html_row(mail: ReceivedMail) -> str:
    data = mail.as_json()
    return (
        f"<article><h2>{html.escape(data['subject'])}</h2>"
        f"<p>To: {html.escape(', '.join(data['rcpt_tos']))} &middot; "
        f"{html.escape(data['date'])}</p><pre>{html.escape(data['body'])}</pre></article>"
    )


async def serve(host: str, smtp_port: int, http_port: int) -> None:
    async with SmtpSink(host, smtp_port, http_port) as sink:
        print(f"SMTP sink: smtp://{host}:{sink.smtp_port}, viewer {sink.http_url}/", flush=True)
        await wait_for_stop_signal()


def main() -> None:
    parser = argparse.ArgumentParser(description="A local SMTP server that keeps the mail")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--smtp-port", type=int, default=8025)
    parser.add_argument("--http-port", type=int, default=8202)
    args = parser.parse_args()
    eventloop.run(serve(args.host, args.smtp_port, args.http_port))


if __name__ == "__main__":
    main()
