"""W3C trace context carried from the HTTP edge through the outbox to every consumer."""

from __future__ import annotations

import re
import secrets
from contextvars import ContextVar

import structlog

_TRACEPARENT = re.compile(r"^00-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$")
current_traceparent: ContextVar[str | None] = ContextVar("current_traceparent", default=None)


def new_traceparent() -> str:
    return f"00-{secrets.token_hex(16)}-{secrets.token_hex(8)}-01"


def child_of(traceparent: str | None) -> str:
    """Continue a valid incoming trace with a new span id, or start a new trace."""
    match = _TRACEPARENT.match(traceparent or "")
    if not match:
        return new_traceparent()
    return f"00-{match.group(1)}-{secrets.token_hex(8)}-01"


def bind_trace(traceparent: str) -> None:
    current_traceparent.set(traceparent)
    structlog.contextvars.bind_contextvars(trace_id=traceparent.split("-")[1])
