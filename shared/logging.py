"""Structured JSON logging with a redaction step that keeps personal data out of every line.

Two guards, both applied to every event (ours and the libraries' through stdlib logging):
- keys that name a PD field have their values replaced, however deep they sit;
- any string value that looks like an email address or a phone number is masked.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Mapping, MutableMapping
from typing import IO, Any

import structlog
from opentelemetry import trace

REDACTED = "[redacted]"

PD_KEYS = frozenset(
    {
        "last_name",
        "first_name",
        "patronymic",
        "name",
        "full_name",
        "phone",
        "email",
        "login",
        "password",
        "address",
        "delivery_address",
        "recipient",
        "street",
        "house",
        "apartment",
        "postal_code",
        "comment",
        "authorization",
        "cookie",
        "set-cookie",
        "access_token",
        "refresh_token",
        "token",
    }
)

_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# 10 to 15 digits, optionally grouped by spaces, dashes, dots or brackets: a phone number.
# The look-arounds keep ids (UUIDs, hex) and timestamps intact.
_PHONE = re.compile(r"(?<![\w.:/-])\+?\(?\d(?:[\s().-]{0,2}\d){9,14}(?![\w:-])")


def redact_text(text: str) -> str:
    if "@" in text:  # no address without one; most values (ids, names of things) have none
        text = _EMAIL.sub(REDACTED, text)
    return _PHONE.sub(REDACTED, text)


def _redact_value(key: str, value: Any) -> Any:
    if key.lower() in PD_KEYS:
        return REDACTED
    if isinstance(value, str):
        return redact_text(value)
    if isinstance(value, Mapping):
        return {k: _redact_value(str(k), v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_redact_value("", v) for v in value]
    return value


def redact_pd(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the last word on what a log line may carry."""
    for key in list(event_dict):
        event_dict[key] = _redact_value(key, event_dict[key])
    return event_dict


def add_trace_ids(
    _logger: Any, _method: str, event_dict: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    """structlog processor: the trace and span of the current OpenTelemetry span, if any."""
    span_context = trace.get_current_span().get_span_context()
    if span_context.is_valid:
        event_dict["trace_id"] = trace.format_trace_id(span_context.trace_id)
        event_dict["span_id"] = trace.format_span_id(span_context.span_id)
    return event_dict


def configure_logging(service: str, level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Route structlog and stdlib logging through one JSON renderer with redaction last."""
    shared_processors: list[Any] = [
        structlog.contextvars.merge_contextvars,
        add_trace_ids,
        structlog.stdlib.add_log_level,
        structlog.stdlib.add_logger_name,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
    ]
    structlog.configure(
        processors=[
            *shared_processors,
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
    formatter = structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=shared_processors,
        processors=[
            structlog.stdlib.ProcessorFormatter.remove_processors_meta,
            structlog.processors.format_exc_info,
            lambda _l, _m, ev: {**ev, "service": service},
            redact_pd,
            structlog.processors.JSONRenderer(ensure_ascii=False),
        ],
    )
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter)
    root = logging.getLogger()
    root.handlers = [handler]
    root.setLevel(level.upper())
    for noisy in ("aiormq", "aio_pika"):
        logging.getLogger(noisy).setLevel(logging.WARNING)


def get_logger(name: str) -> structlog.stdlib.BoundLogger:
    return structlog.stdlib.get_logger(name)
