"""Stand-ins for outside parties (courier, bank): the lifecycle they share, and running one
as its own process until it is stopped.

A stand-in consumes its own queue on our broker, keeps what it received in memory, and calls
the shop back with HMAC-signed notifications (``shared.signing``), as the real party would.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import html
import logging
import os
import signal
from collections.abc import Callable, Coroutine, Iterable, Sequence
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol, Self, TypedDict, TypeVar

import aiohttp
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage, AbstractRobustConnection
from aiohttp import web

from shared import eventloop
from shared.messaging.supervisor import ConsumerSupervisor, connect
from shared.signing import signed_headers

RETRY_DELAYS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0)
log = logging.getLogger("deploy")


def accepted(answer: int | None) -> bool:
    """A 2xx: the shop took the callback."""
    return answer is not None and 200 <= answer < 300


async def post_signed(
    http: aiohttp.ClientSession, url: str, secret: str, body: bytes
) -> int | None:
    """POST a signed notification; the shop's status code, or None if it did not answer."""
    headers = {"Content-Type": "application/json", **signed_headers(secret, body)}
    try:
        async with http.post(url, data=body, headers=headers) as response:
            return response.status
    except (aiohttp.ClientError, TimeoutError) as exc:
        log.warning("callback failed: %s", type(exc).__name__)
        return None


async def deliver_signed(
    http: aiohttp.ClientSession,
    url: str,
    secret: str,
    body: bytes,
    retry_delays_s: tuple[float, ...],
    *,
    settled: Callable[[int], bool] = accepted,
    on_answer: Callable[[int, int | None], None] | None = None,
) -> int | None:
    """POST the same body (a fresh signature each try) until an answer is ``settled``,
    backing off by ``retry_delays_s``; the last answer (None: the shop never answered).

    ``on_answer(attempt, answer)`` sees every try."""
    answer: int | None = None
    for attempt, retry_in in enumerate((*retry_delays_s, None), start=1):
        answer = await post_signed(http, url, secret, body)
        if on_answer is not None:
            on_answer(attempt, answer)
        if answer is not None and settled(answer):
            return answer
        if retry_in is None:
            break
        log.warning("callback answered %s, retrying in %ss", answer, retry_in)
        await asyncio.sleep(retry_in)
    log.error("callback gave up after %d attempts", len(retry_delays_s) + 1)
    return answer


class StandInOptions(TypedDict, total=False):
    """What every stand-in takes besides the broker and its code (defaults in QueueStandIn)."""

    callback_base_url: str
    secret: str
    retry_delays_s: tuple[float, ...]


class StandIn(Protocol):
    def create_app(self) -> web.Application: ...


class QueueStandIn:
    """Consumes ``queue_name`` and posts signed callbacks to ``callback_url``.

    Subclasses declare their queue (``declare``), handle its messages (``_on_message``) and
    say where the shop listens (``callback_path``).
    """

    callback_path: str

    def __init__(
        self,
        amqp_url: str,
        code: str = "sandbox",
        *,
        callback_base_url: str = "http://127.0.0.1:8080",
        secret: str = "",
        retry_delays_s: tuple[float, ...] = RETRY_DELAYS_S,
    ) -> None:
        self.amqp_url = amqp_url
        self.code = code
        self.callback_base_url = callback_base_url.rstrip("/")
        self.secret = secret
        self.retry_delays_s = retry_delays_s
        self._connection: AbstractRobustConnection | None = None
        self._supervisor: ConsumerSupervisor | None = None
        self._tasks: set[asyncio.Task[Any]] = set()
        self._http: aiohttp.ClientSession | None = None

    @property
    def callback_url(self) -> str:
        return f"{self.callback_base_url}{self.callback_path.format(code=self.code)}"

    async def declare(self, channel: AbstractChannel) -> str:
        """Declare the stand-in's queue; return its name."""
        raise NotImplementedError

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        raise NotImplementedError

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()

    async def start(self) -> None:
        self._http = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10))
        self._connection = await connect(self.amqp_url)
        self._supervisor = ConsumerSupervisor(
            self._connection, f"{type(self).__name__}:{self.code}", self._consume
        )
        await self._supervisor.start()

    async def _consume(self, channel: AbstractChannel) -> None:
        """Consume the stand-in's queue: again on a new channel after the broker was away."""
        await channel.set_qos(prefetch_count=10)
        queue = await channel.get_queue(await self.declare(channel))
        await queue.consume(self._on_message)

    async def stop(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._supervisor is not None:
            await self._supervisor.stop()
            self._supervisor = None
        if self._connection is not None:
            await self._connection.close()
            self._connection = None
        if self._http is not None:
            await self._http.close()
            self._http = None

    def _spawn(self, coroutine: Coroutine[Any, Any, Any]) -> asyncio.Task[Any]:
        task = asyncio.create_task(coroutine)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)
        return task

    async def _deliver(
        self,
        body: bytes,
        *,
        settled: Callable[[int], bool] = accepted,
        on_answer: Callable[[int, int | None], None] | None = None,
    ) -> int | None:
        """POST the signed notification to ``callback_url`` until settled (``deliver_signed``)."""
        assert self._http is not None, "use the stand-in as an async context manager"
        return await deliver_signed(
            self._http,
            self.callback_url,
            self.secret,
            body,
            self.retry_delays_s,
            settled=settled,
            on_answer=on_answer,
        )


def html_page(title: str, body: str, *, refresh_s: int | None = None) -> web.Response:
    """A stand-in's plain page: ``title`` (escaped) as its title and heading, then ``body``
    (already HTML); ``refresh_s`` reloads it that often."""
    refresh = f"<meta http-equiv='refresh' content='{refresh_s}'>" if refresh_s else ""
    text = (
        f"<!doctype html><html><head><meta charset='utf-8'>{refresh}"
        f"<title>{html.escape(title)}</title></head>"
        f"<body><h1>{html.escape(title)}</h1>{body}</body></html>"
    )
    return web.Response(text=text, content_type="text/html")


def received_table(headings: Sequence[str], rows: Iterable[str]) -> str:
    """A table of what a stand-in received (``rows``: ``<tr>`` each, already escaped)."""
    head = "".join(f"<th>{heading}</th>" for heading in headings)
    body = "".join(rows) or f"<tr><td colspan='{len(headings)}'>Nothing received yet.</td></tr>"
    return f"<table border='1' cellpadding='4'><tr>{head}</tr>{body}</table>"


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


_Party = TypeVar("_Party")


def standin_app(
    key: web.AppKey[_Party],
    party: _Party,
    page: Callable[[web.Request], Coroutine[Any, Any, web.StreamResponse]],
    **options: Any,
) -> web.Application:
    """A stand-in's app: the party under ``key``, its page at ``/`` and ``/healthz``."""
    app = web.Application(**options)
    app[key] = party
    app.router.add_get("/", page)
    app.router.add_get("/healthz", healthz)
    return app


async def wait_for_stop_signal() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def serve_standin(
    standin: AbstractAsyncContextManager[StandIn], host: str, port: int, label: str
) -> None:
    """Enter the stand-in (its broker consumer), serve its pages on host:port, until stopped."""
    async with standin as running:
        runner = web.AppRunner(running.create_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        logging.getLogger("deploy").info("%s on http://%s:%d", label, host, port)
        try:
            await wait_for_stop_signal()
        finally:
            await runner.cleanup()


def standin_parser(description: str, *, party: str, http_port: int) -> argparse.ArgumentParser:
    """The options every stand-in takes, each defaulting to an environment variable
    (``<PARTY>_CODE`` and ``<PARTY>_SECRET`` for the party's own)."""
    env = os.environ.get
    parser = argparse.ArgumentParser(description=description)
    parser.add_argument("--amqp-url", default=env("AMQP_URL", "amqp://guest:guest@127.0.0.1/"))
    parser.add_argument("--code", default=env(f"{party}_CODE", "sandbox"))
    parser.add_argument(
        "--callback-base-url", default=env("CALLBACK_BASE_URL", "http://127.0.0.1:8080")
    )
    parser.add_argument("--secret", default=env(f"{party}_SECRET", ""))
    parser.add_argument("--http-host", default=env("HTTP_HOST", "127.0.0.1"))
    parser.add_argument("--http-port", type=int, default=int(env("HTTP_PORT", str(http_port))))
    return parser


def parse_standin_args(
    parser: argparse.ArgumentParser, argv: list[str] | None, *, party: str
) -> argparse.Namespace:
    args = parser.parse_args(argv)
    if not args.secret:
        parser.error(f"a callback secret is needed: --secret or {party}_SECRET")
    return args


def run_standin(
    make: Callable[..., AbstractAsyncContextManager[StandIn]],
    label: str,
    args: argparse.Namespace,
    **extra: Any,
) -> None:
    """Run one stand-in as its own process (``make`` with the common options of ``args``
    and ``extra``) until SIGINT or SIGTERM."""

    async def serve() -> None:
        standin = make(
            args.amqp_url,
            args.code,
            callback_base_url=args.callback_base_url,
            secret=args.secret,
            **extra,
        )
        await serve_standin(standin, args.http_host, args.http_port, f"{label} {args.code}")

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        eventloop.run(serve())
