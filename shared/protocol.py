"""aiohttp's connection layer for every service: its own errors as problems, and an access log
that names routes, not paths.

A request aiohttp cannot parse (a bad header character, an invalid method, a malformed
request line, an unsupported ``Content-Encoding``) is answered by ``RequestHandler.handle_error``
before any middleware runs, as plain text that quotes what was sent (and suggests installing
Brotli), and logged with the offending bytes. aiohttp has no setting for that answer, so the
runner here builds its server with a handler class whose ``handle_error`` answers an RFC 9457
problem that quotes nothing and logs only the kind of error. ``shared.service.run_service``
and ``running_app`` use it, so every service and every test server does.

aiohttp also names itself and its version in every answer (``Server: Python/3.11
aiohttp/3.x``, which tells an attacker which advisories to try); the runner's answers,
aiohttp's refusals included, say only ``SERVER``.
"""

from __future__ import annotations

from typing import Any

from aiohttp import web
from aiohttp.abc import AbstractAccessLogger
from aiohttp.http_exceptions import (
    BadHttpMethod,
    ContentEncodingError,
    HttpProcessingError,
    LineTooLong,
)

from shared.http import ROUTE, problem_response
from shared.logging import get_logger

log = get_logger("shared.protocol")
SERVER = "shop"


async def neutral_server(_request: web.Request, response: web.StreamResponse) -> None:
    """An ``on_response_prepare`` signal: aiohttp only sets ``Server`` when none is set."""
    response.headers["Server"] = SERVER


def describe(status: int, exc: BaseException | None) -> tuple[int, str, str]:
    """Status, title and detail of the problem for an error aiohttp met (nothing sent in it)."""
    if isinstance(exc, ContentEncodingError):
        return 415, "Unsupported content encoding", "Send the body uncompressed, gzip or deflate."
    if isinstance(exc, BadHttpMethod):
        return 400, "Bad request", "The request method is not valid HTTP."
    if isinstance(exc, LineTooLong):
        return 400, "Bad request", "The request line or a header is too long."
    if isinstance(exc, HttpProcessingError) or 400 <= status < 500:
        return 400, "Bad request", "The request line or a header is not valid HTTP/1.1."
    if status == 504:
        return 504, "Timed out", "The request took too long."
    return 500, "Internal error", "Something went wrong on our side."


class ProblemRequestHandler(web.RequestHandler):
    """One connection: aiohttp's own, except that its errors are answered as problems."""

    __slots__ = ()

    def handle_error(
        self,
        request: web.BaseRequest,
        status: int = 500,
        exc: BaseException | None = None,
        message: str | None = None,
    ) -> web.StreamResponse:
        if request.writer.output_size > 0:  # as aiohttp: too late for another answer
            raise ConnectionError("a response was already sent")
        status, title, detail = describe(status, exc)
        if status >= 500:
            log.error("request failed outside the handlers", status=status, exc_info=exc)
        else:  # the exception's text quotes the bytes sent: only its kind is logged
            log.info("malformed request refused", status=status, error=type(exc).__name__)
        response = problem_response(status, title, detail)
        response.headers["Server"] = SERVER
        response.force_close()
        return response

    def log_exception(self, *args: Any, **kwargs: Any) -> None:
        # A broken body was answered by the handler already (shared.http); aiohttp meets it
        # again when it drains what is left of the body and would log a traceback for it.
        if isinstance(kwargs.get("exc_info"), web.RequestPayloadError):
            log.info("rest of a broken request body dropped")
            return
        super().log_exception(*args, **kwargs)


class ProblemServer(web.Server):
    def __call__(self) -> web.RequestHandler:
        return ProblemRequestHandler(self, loop=self._loop, **self._kwargs)


class ServiceRunner(web.AppRunner):
    """``web.AppRunner`` whose server is a ``ProblemServer`` (the same arguments otherwise)
    and whose app's answers carry the neutral ``Server``."""

    async def _make_server(self) -> web.Server:
        self.app.on_response_prepare.append(neutral_server)
        server = await super()._make_server()
        return ProblemServer(
            server.request_handler,
            request_factory=server.request_factory,
            handler_cancellation=server.handler_cancellation,
            loop=server._loop,
            **server._kwargs,
        )


class RouteAccessLogger(AbstractAccessLogger):
    """One line per request with the route's template: the path and query a client sent may
    hold personal data (an email or a phone as a segment), so neither is logged."""

    def log(self, request: web.BaseRequest, response: web.StreamResponse, time: float) -> None:
        self.logger.info(
            "%s %s %s %.1fms",
            request.method,
            request.get(ROUTE) or "(no route)",
            response.status,
            time * 1000,
        )
