"""The sandbox SMS provider: a stand-in for an outside SMS gateway, for ``make up`` and tests.

It speaks the API of ``services/notifications/sms.py``: ``POST /messages`` with ``{message_id,
sender, to, text}`` signed with the shared secret (``shared.signing``; 401 otherwise).
A new ``message_id`` answers 201 ``{id, status: "accepted"}``; the same ``message_id`` again
answers 200 with the first ``id`` and sends nothing more. Test numbers, by rule:

- ``+7 700 000 00 xx`` (E.164 ``+770000000xx``): refused at once, 422
  ``{"error": "invalid_number"}``;
- ``+7 700 000 01 xx``: refused at once, 422 ``{"error": "blocked"}``;
- ``+7 700 000 02 xx``: accepted, then a ``failed`` report, ``permanent``
  (``reason: "unreachable_number"``);
- ``+7 700 000 03 xx``: accepted, then a ``failed`` report, not permanent
  (``reason: "network_timeout"``);
- any other number: accepted, then a ``delivered`` report.

Every accepted text gets a signed delivery report after ``report_delay_s``, posted to
``{callback_base_url}/api/notifications/sms/reports`` as ``{event_id, message_id,
provider_message_id, status: delivered|failed, permanent, reason, at}``. ``POST /inbound``
(``{from, text}``, JSON or a form) plays a text sent to the shop's number: it is forwarded
signed to ``{callback_base_url}/api/notifications/sms/inbound`` as ``{event_id, from, to,
text, received_at}``. Both callbacks are retried with back-off and the same event id until
the shop answers 2xx (a 400, 413, 415 or 422 is final: the shop understood and refused).
``GET /messages`` shows what it received and what it reported (JSON), ``/`` as a page.

In tests::

    async with SandboxSms(callback_base_url=url, secret=s) as provider:
        url = await provider.listen()           # or serve provider.create_app() yourself
        record = await provider.wait_for(message_id)
        await provider.inbound("+77011234567", "STOP")

Alone: ``python -m deploy.sandbox_sms --http-port 8204`` (options also from the environment:
CALLBACK_BASE_URL, SMS_SECRET, SMS_NUMBER, HTTP_HOST, HTTP_PORT). It holds phone numbers and
texts in memory, as a provider does: it listens on localhost by default and logs neither.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import json
import logging
import os
import re
import uuid
from collections.abc import Coroutine
from datetime import UTC, datetime
from typing import Any, Final, Self

import aiohttp
from aiohttp import web

from deploy.standin import (
    RETRY_DELAYS_S,
    accepted,
    deliver_signed,
    html_page,
    received_table,
    serve_standin,
    standin_app,
)
from shared import eventloop
from shared.signing import SignatureError, verify

log = logging.getLogger("deploy.sandbox_sms")
REPORTS_PATH: Final = "/api/notifications/sms/reports"
INBOUND_PATH: Final = "/api/notifications/sms/inbound"
# A callback answer the shop will give again: retrying cannot change it.
FINAL_REFUSALS: Final = frozenset({400, 413, 415, 422})
# (E.164 prefix, what happens): refused at once, or the report that follows acceptance.
REFUSED: Final = {"+770000000": "invalid_number", "+770000001": "blocked"}
REPORTS: Final = {
    "+770000002": ("failed", True, "unreachable_number"),
    "+770000003": ("failed", False, "network_timeout"),
}
DELIVERED: Final = ("delivered", False, None)
_E164: Final = re.compile(r"^\+[1-9][0-9]{6,14}$")


def outcome_of(phone: str) -> tuple[str | None, tuple[str, bool, str | None]]:
    """(refusal or None, the report an accepted text gets) for a number, by the rule above."""
    prefix = phone[:10]  # "+7 700 000 0N"
    return REFUSED.get(prefix), REPORTS.get(prefix, DELIVERED)


class SandboxSms:
    """Takes signed texts, reports on them, and plays inbound texts to the shop."""

    def __init__(
        self,
        *,
        callback_base_url: str = "http://127.0.0.1:8080",
        secret: str = "",
        number: str = "Shop",
        report_delay_s: float = 0.1,
        retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S,
    ) -> None:
        if not secret:
            raise ValueError("a shared secret is needed")
        self.callback_base_url = callback_base_url.rstrip("/")
        self.secret = secret
        self.number = number
        self.report_delay_s = report_delay_s
        self.retry_delays_s = retry_delays_s
        self.messages: dict[str, dict[str, Any]] = {}  # message_id -> record
        self.inbound_texts: list[dict[str, Any]] = []
        self._changed = asyncio.Condition()
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: aiohttp.ClientSession | None = None
        self._runner: web.AppRunner | None = None

    async def __aenter__(self) -> Self:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        return self

    async def __aexit__(self, *_exc: object) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    async def listen(self, host: str = "127.0.0.1", port: int = 0) -> str:
        """Serve the provider's API on host:port until the context ends; its base URL."""
        self._runner = web.AppRunner(self.create_app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port)
        await site.start()
        sockets = getattr(site._server, "sockets", None) or []
        return f"http://{host}:{sockets[0].getsockname()[1] if sockets else port}"

    def create_app(self) -> web.Application:
        app = standin_app(PROVIDER_KEY, self, overview, client_max_size=64 * 1024)
        app.router.add_get("/messages", messages_json)
        app.router.add_post("/messages", take_message)
        app.router.add_post("/inbound", take_inbound)
        return app

    # The provider's side of a send.

    async def accept(self, message: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        """A verified send: the status and body the provider answers."""
        message_id = message["message_id"]
        known = self.messages.get(message_id)
        if known is not None:  # the shop retried after a lost answer: nothing is sent again
            return 200, {"id": known["id"], "status": "accepted"}
        refusal, report = outcome_of(message["to"])
        if refusal is not None:
            return 422, {"error": refusal}
        record = {
            **message,
            "id": f"sbx-{uuid.uuid4().hex}",
            "received_at": datetime.now(UTC).isoformat(),
            "report": "pending",
            "report_answer": None,
        }
        self.messages[message_id] = record
        await self._notify()
        log.info("text accepted (%d in total)", len(self.messages))
        self._spawn(self._report(record, *report))
        return 201, {"id": record["id"], "status": "accepted"}

    async def _report(
        self, record: dict[str, Any], status: str, permanent: bool, reason: str | None
    ) -> None:
        await asyncio.sleep(self.report_delay_s)
        body = {
            "event_id": str(uuid.uuid4()),
            "message_id": record["message_id"],
            "provider_message_id": record["id"],
            "status": status,
            "permanent": permanent,
            "reason": reason,
            "at": datetime.now(UTC).isoformat(),
        }
        answer = await self._deliver(REPORTS_PATH, body)
        record["report"] = status if accepted(answer) else f"report failed ({status})"
        record["report_answer"] = answer
        await self._notify()

    # A text sent to the shop's number.

    async def inbound(self, phone: str, text: str) -> int | None:
        """Forward an inbound text to the shop (retrying); the shop's last answer."""
        record = {
            "event_id": str(uuid.uuid4()),
            "from": phone,
            "to": self.number,
            "text": text,
            "received_at": datetime.now(UTC).isoformat(),
        }
        self.inbound_texts.append({**record, "status": "forwarding", "answer": None})
        shown = self.inbound_texts[-1]
        answer = await self._deliver(INBOUND_PATH, record)
        shown["status"] = "forwarded" if accepted(answer) else "refused or gave up"
        shown["answer"] = answer
        await self._notify()
        return answer

    def inbound_later(self, phone: str, text: str) -> None:
        self._spawn(self.inbound(phone, text))

    # Waiting, for tests.

    async def wait_for(
        self, message_id: str | None = None, *, reported: bool = False, within_s: float = 10.0
    ) -> dict[str, Any]:
        """The record of a text (any, when ``message_id`` is None), once it arrived or, with
        ``reported``, once its report was answered."""

        def found() -> dict[str, Any] | None:
            if message_id is None:
                record = next(iter(self.messages.values()), None)
            else:
                record = self.messages.get(message_id)
            if record is None or (reported and record["report_answer"] is None):
                return None
            return record

        async with asyncio.timeout(within_s), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        record = found()
        assert record is not None
        return record

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> None:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _deliver(self, path: str, event: dict[str, Any]) -> int | None:
        """POST the signed event (fresh signature each try) until 2xx or a final refusal."""
        assert self._http is not None, "use the provider as an async context manager"
        body = json.dumps(event, ensure_ascii=False).encode()
        return await deliver_signed(
            self._http,
            self.callback_base_url + path,
            self.secret,
            body,
            self.retry_delays_s,
            settled=lambda answer: accepted(answer) or answer in FINAL_REFUSALS,
        )


PROVIDER_KEY = web.AppKey("sms_provider", SandboxSms)


def _refusal(status: int, error: str) -> web.Response:
    return web.json_response({"error": error}, status=status)


async def take_message(request: web.Request) -> web.Response:
    provider = request.app[PROVIDER_KEY]
    raw = await request.read()
    try:
        verify(provider.secret, request.headers, raw)
    except SignatureError:
        return _refusal(401, "bad_signature")
    try:
        message = json.loads(raw)
    except ValueError:
        return _refusal(400, "malformed")
    fields = {"message_id", "sender", "to", "text"}
    if not isinstance(message, dict) or set(message) != fields:
        return _refusal(400, "malformed")
    if not all(isinstance(message[f], str) for f in fields) or len(message["text"]) > 1600:
        return _refusal(400, "malformed")
    if not _E164.match(message["to"]):
        return _refusal(422, "invalid_number")
    status, answer = await provider.accept(message)
    return web.json_response(answer, status=status)


async def take_inbound(request: web.Request) -> web.Response:
    """Play a text sent to the shop's number; forwarded in the background (202)."""
    provider = request.app[PROVIDER_KEY]
    if request.content_type == "application/json":
        try:
            data = await request.json()
        except ValueError:
            return _refusal(400, "malformed")
    else:
        data = dict(await request.post())
    if not isinstance(data, dict):
        return _refusal(400, "malformed")
    phone, text = data.get("from"), data.get("text")
    if not isinstance(phone, str) or not isinstance(text, str) or not _E164.match(phone):
        return _refusal(400, "give from (E.164) and text")
    provider.inbound_later(phone, text)
    return web.json_response({"status": "forwarding"}, status=202)


async def messages_json(request: web.Request) -> web.Response:
    provider = request.app[PROVIDER_KEY]
    return web.json_response(
        {"messages": list(reversed(provider.messages.values())), "inbound": provider.inbound_texts}
    )


async def overview(request: web.Request) -> web.Response:
    provider = request.app[PROVIDER_KEY]
    rows = (
        f"<tr><td>{html.escape(r['to'])}</td><td>{html.escape(r['text'])}</td>"
        f"<td>{html.escape(str(r['report']))}</td></tr>"
        for r in reversed(provider.messages.values())
    )
    body = (
        "<p>Texts received from the shop (JSON: <a href='/messages'>/messages</a>).</p>"
        f"{received_table(('to', 'text', 'report'), rows)}<h2>Send a text to the shop</h2>"
        "<form method='post' action='/inbound'><label>From <input name='from'"
        " value='+77011234567'></label> <label>Text <input name='text' value='STOP'></label>"
        " <button type='submit'>Send</button></form>"
    )
    return html_page("Sandbox SMS provider", body)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    env = os.environ.get
    parser = argparse.ArgumentParser(description="The sandbox SMS provider (a local stand-in)")
    parser.add_argument(
        "--callback-base-url", default=env("CALLBACK_BASE_URL", "http://127.0.0.1:8080")
    )
    parser.add_argument("--secret", default=env("SMS_SECRET", ""))
    parser.add_argument("--number", default=env("SMS_NUMBER", "Shop"))
    parser.add_argument("--http-host", default=env("HTTP_HOST", "127.0.0.1"))
    parser.add_argument("--http-port", type=int, default=int(env("HTTP_PORT", "8204")))
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error("a shared secret is needed: --secret or SMS_SECRET")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    provider = SandboxSms(
        callback_base_url=args.callback_base_url, secret=args.secret, number=args.number
    )
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        eventloop.run(serve_standin(provider, args.http_host, args.http_port, "sandbox sms"))


if __name__ == "__main__":
    main()
