"""HTTP plumbing for every service: RFC 9457 problems, JSON bodies, trace context, health.

Bad input is always a 4xx problem+json with a clear message. Validation errors name the
fields that are wrong and why, never the values sent (they may be personal data).
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable, Iterable
from typing import Any, TypeVar

import structlog
from aiohttp import web
from pydantic import BaseModel, ValidationError

from shared import jsontext, strict_json
from shared.db import unreachable
from shared.logging import get_logger
from shared.telemetry import continued

PROBLEM_JSON = "application/problem+json"
DECODED_CODINGS = frozenset({"identity", "gzip", "deflate"})
# aiohttp decodes header bytes that are not UTF-8 as these lone surrogates (surrogateescape);
# they raise wherever a value is encoded again (a cookie hashed, a token compared).
_UNDECODABLE = re.compile("[\udc80-\udcff]")
M = TypeVar("M", bound=BaseModel)
log = get_logger("shared.http")

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
ReadinessCheck = Callable[[web.Application], Awaitable[None]]
READINESS_CHECKS = web.AppKey("readiness_checks", list[tuple[str, ReadinessCheck]])
# The matched route's template on each request, for the access log (which runs after the
# handlers and has no other safe way to it: protocol errors never reach routing).
ROUTE = web.RequestKey("route", str)


class Problem(Exception):
    """Raise anywhere in a handler to answer with a problem+json document."""

    def __init__(self, status: int, title: str, detail: str = "", **extensions: Any) -> None:
        super().__init__(title)
        self.status = status
        self.title = title
        self.detail = detail
        self.extensions = extensions


def problem_response(
    status: int, title: str, detail: str = "", instance: str = "", **extensions: Any
) -> web.Response:
    document: dict[str, Any] = {"type": "about:blank", "title": title, "status": status}
    if detail:
        document["detail"] = detail
    if instance:
        document["instance"] = instance
    document.update(extensions)
    return web.Response(
        status=status,
        text=jsontext.dumps(document),
        content_type=PROBLEM_JSON,
    )


def validation_problem(exc: ValidationError, instance: str = "") -> web.Response:
    errors = [
        {"field": ".".join(str(part) for part in error["loc"]) or "(body)", "message": error["msg"]}
        for error in exc.errors(include_url=False, include_input=False)
    ]
    return problem_response(
        422, "Invalid request", "Some fields are missing or wrong.", instance, errors=errors
    )


@web.middleware
async def trace_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    structlog.contextvars.clear_contextvars()
    request[ROUTE] = route_path(request)
    with continued(request.headers):
        return await handler(request)


def route_path(request: web.Request) -> str:
    """The matched route's template (``/api/orders/{order_id}``), or "" when none matched.

    Used for a problem's ``instance`` and in logs instead of the path a client sent, which
    may carry personal data (an email or a phone as a path segment).
    """
    match_info = request.match_info
    if match_info.http_exception is not None:
        return ""
    resource = match_info.route.resource
    return resource.canonical if resource is not None else ""


@web.middleware
async def problem_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        _refuse_undecodable_headers(request)
        return await handler(request)
    except Problem as exc:
        return problem_response(
            exc.status, exc.title, exc.detail, route_path(request), **exc.extensions
        )
    except ValidationError as exc:
        return validation_problem(exc, route_path(request))
    except web.RequestPayloadError:  # a body aiohttp could not decode (bad gzip, chunks)
        detail = "The request body could not be read: its encoding or framing is broken."
        return problem_response(400, "Unreadable body", detail, route_path(request))
    except web.HTTPException as exc:
        if exc.status < 400:
            raise
        return problem_response(exc.status, exc.reason, instance=route_path(request))
    except Exception as exc:
        path = route_path(request)
        if unreachable(exc):
            log.warning("unreachable", route=path or "(no route)", error=type(exc).__name__)
            detail = "A part of the shop is unreachable for a moment; try again shortly."
            response = problem_response(503, "Service unavailable", detail, path)
            response.headers["Retry-After"] = "1"
            return response
        log.exception("unhandled error", route=path or "(no route)", method=request.method)
        return problem_response(500, "Internal error", "Something went wrong on our side.", path)


def _refuse_undecodable_headers(request: web.Request) -> None:
    for value in request.headers.values():
        if not value.isascii() and _UNDECODABLE.search(value):
            raise Problem(400, "Bad header", "A request header is not valid UTF-8 text.")


async def read_json(request: web.Request, model: type[M]) -> M:
    """Parse and validate a JSON body; every failure is a 4xx problem (``shared.strict_json``:
    UTF-8 only, bounded nesting, no duplicate keys, NaN, huge numbers or lone surrogates)."""
    charset = (request.charset or "utf-8").lower()
    if request.content_type != "application/json" or charset != "utf-8":
        raise Problem(415, "Unsupported media type", "Send the body as application/json (UTF-8).")
    # aiohttp decodes these (and refuses br/zstd itself); any other coding it passes through
    # undecoded, as if it were none.
    if request.headers.get("Content-Encoding", "identity").lower() not in DECODED_CODINGS:
        raise Problem(
            415, "Unsupported content encoding", "Send the body uncompressed, gzip or deflate."
        )
    try:
        raw = await request.read()
    except web.HTTPRequestEntityTooLarge:
        raise Problem(413, "Body too large", "The request body is larger than allowed.") from None
    try:
        data = strict_json.loads(raw)
    except strict_json.RefusedJson as exc:
        raise Problem(exc.status, exc.title, exc.detail) from None
    if not isinstance(data, dict):
        raise Problem(422, "Invalid request", "The request body must be a JSON object.")
    return model.model_validate(data)


def query_model(request: web.Request, model: type[M]) -> M:
    return model.model_validate(dict(request.query))


def json_response(data: Any, status: int = 200, **kwargs: Any) -> web.Response:
    return web.json_response(data, status=status, dumps=_dumps, **kwargs)


def _dumps(data: Any) -> str:
    if isinstance(data, BaseModel):
        return data.model_dump_json()
    return jsontext.dumps(data)


async def healthz(_request: web.Request) -> web.Response:
    return json_response({"status": "ok"})


async def readyz(request: web.Request) -> web.Response:
    failed: list[str] = []
    for name, check in request.app.get(READINESS_CHECKS, []):
        try:
            await check(request.app)
        except Exception:
            failed.append(name)
    if failed:
        return problem_response(503, "Not ready", f"Unreachable: {', '.join(failed)}")
    return json_response({"status": "ready"})


def add_health_routes(app: web.Application, checks: Iterable[tuple[str, ReadinessCheck]]) -> None:
    app[READINESS_CHECKS] = list(checks)
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
