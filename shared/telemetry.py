"""OpenTelemetry traces: one trace from the HTTP edge through the outbox to every consumer.

Off by default: no SDK is installed and nothing is exported; the API's no-op tracer still
carries an incoming ``traceparent`` on (HTTP calls, outbox rows, messages), so logs keep the
trace and span ids. With ``OTEL_TRACES_EXPORTER=otlp`` a service process installs the SDK with
its own ``service.name``, the aiohttp server, asyncpg and aio-pika instrumentations, and an
OTLP exporter (``OTEL_EXPORTER_OTLP_PROTOCOL`` http/protobuf or grpc; the endpoint, headers
and batching from the standard ``OTEL_*`` variables). The services' HTTP client is traced
through its own trace config (``client_trace_config``).

What is exported is cut down to a fixed set of attributes (``PrivateSpans``): no query
string, no path a client sent (the route template only), no header, no body, SQL as its
text with ``$n`` placeholders, no exception message, no status text.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from urllib.parse import urlsplit, urlunsplit

import yarl
from aiohttp import TraceConfig
from opentelemetry import context, trace
from opentelemetry.instrumentation.aiohttp_client import create_trace_config
from opentelemetry.instrumentation.utils import suppress_instrumentation
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.trace import Link, SpanKind, Status
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from shared.settings import ServiceSettings

TRACEPARENT = "traceparent"
_W3C = TraceContextTextMapPropagator()
# Everything else an instrumentation records (user agent, host header, target, full server
# URL, SQL parameters, exception messages) is left out of the export.
KEPT_ATTRIBUTES = frozenset(
    {
        "http.request.method",
        "http.method",
        "http.route",
        "http.response.status_code",
        "http.status_code",
        "http.scheme",
        "url.scheme",
        "network.protocol.version",
        "http.flavor",
        "server.address",
        "server.port",
        "net.host.name",
        "net.host.port",
        "net.peer.name",
        "net.peer.port",
        "error.type",
        "db.system",
        "db.system.name",
        "db.name",
        "db.namespace",
        "db.user",
        "db.statement",
        "db.query.text",
        "db.operation",
        "db.operation.name",
        "messaging.system",
        "messaging.operation",
        "messaging.destination",
        "messaging.destination.name",
        "messaging.temp_destination",
        "messaging.message_id",
        "messaging.message.id",
        "messaging.conversation_id",
    }
)
# A client's own call: the URL it called, without its query string.
CLIENT_URL_ATTRIBUTES = frozenset({"url.full", "http.url"})
KEPT_EVENT_ATTRIBUTES = frozenset({"exception.type"})


def without_query(url: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))


def _kept(span: ReadableSpan) -> dict[str, object]:
    kept: dict[str, object] = {}
    for key, value in (span.attributes or {}).items():
        if key in KEPT_ATTRIBUTES:
            kept[key] = value
        elif key in CLIENT_URL_ATTRIBUTES and span.kind is SpanKind.CLIENT:
            kept[key] = without_query(str(value))
    return kept


def private_copy(span: ReadableSpan) -> ReadableSpan:
    """The span with only what may leave the service (see ``KEPT_ATTRIBUTES``)."""
    events = [
        Event(
            event.name,
            {k: v for k, v in (event.attributes or {}).items() if k in KEPT_EVENT_ATTRIBUTES},
            event.timestamp,
        )
        for event in span.events
    ]
    return ReadableSpan(
        name=span.name,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=_kept(span),  # type: ignore[arg-type]
        events=events,
        links=[Link(link.context) for link in span.links],
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class PrivateSpans(SpanExporter):
    """Exports through ``exporter`` the private copy of each span."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return self._exporter.export([private_copy(span) for span in spans])

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._exporter.force_flush(timeout_millis)


def otlp_exporter(protocol: str) -> SpanExporter:
    """The OTLP exporter for ``protocol``; it reads its endpoint and headers from ``OTEL_*``."""
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

        return OTLPSpanExporter()
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpExporter,
    )

    return HttpExporter()


def start_telemetry(service: str, settings: ServiceSettings) -> TracerProvider | None:
    """Once per service process, before its app is built (the server instrumentation wraps
    every ``web.Application`` made after it). Returns the provider to shut down at exit, or
    None when tracing is off."""
    if settings.otel_traces_exporter == "none":
        return None
    from opentelemetry.instrumentation.aio_pika import AioPikaInstrumentor
    from opentelemetry.instrumentation.aiohttp_server import AioHttpServerInstrumentor
    from opentelemetry.instrumentation.asyncpg import AsyncPGInstrumentor

    provider = TracerProvider(resource=Resource.create({SERVICE_NAME: service}))
    provider.add_span_processor(
        BatchSpanProcessor(PrivateSpans(otlp_exporter(settings.otel_exporter_otlp_protocol)))
    )
    trace.set_tracer_provider(provider)
    AioHttpServerInstrumentor().instrument(tracer_provider=provider)
    AsyncPGInstrumentor(capture_parameters=False).instrument(tracer_provider=provider)
    AioPikaInstrumentor().instrument(tracer_provider=provider)
    return provider


@contextlib.contextmanager
def traced_process(service: str, settings: ServiceSettings) -> Iterator[None]:
    """Around a service process's ``create_app`` and ``run_service``: tracing when asked for,
    and what is left exported at exit."""
    provider = start_telemetry(service, settings)
    try:
        yield
    finally:
        if provider is not None:
            provider.shutdown()


def _query_less(url: yarl.URL) -> str:
    return str(url.with_query(None).with_fragment(None))


def client_trace_config() -> TraceConfig:
    """For a service's ``ClientSession``: a client span per call (none when tracing is off)
    and the ``traceparent`` header, so the callee continues the trace."""
    return create_trace_config(url_filter=_query_less)


def current_traceparent() -> str | None:
    """The current span as a W3C ``traceparent`` (kept with an outbox row), or None."""
    carrier: dict[str, str] = {}
    _W3C.inject(carrier)
    return carrier.get(TRACEPARENT)


@contextlib.contextmanager
def continued(carrier: Mapping[str, object]) -> Iterator[None]:
    """Continue the trace of ``carrier`` (headers with a ``traceparent``) unless a span is
    already current (the instrumentation of the server or the consumer started one).
    Without a ``traceparent`` there is nothing to continue (W3C ignores a lone
    ``tracestate``): most requests, so they skip copying and parsing the headers."""
    if TRACEPARENT not in carrier or trace.get_current_span().get_span_context().is_valid:
        yield
        return
    headers = {k.lower(): v for k, v in carrier.items() if isinstance(v, str)}  # names: any case
    token = context.attach(_W3C.extract(headers))
    try:
        yield
    finally:
        context.detach(token)


@contextlib.contextmanager
def from_traceparent(traceparent: str | None) -> Iterator[None]:
    """The context an outbox row was written in (and nothing else of the caller's), for
    publishing it (the relay)."""
    carrier = {TRACEPARENT: traceparent} if traceparent else {}
    token = context.attach(_W3C.extract(carrier, context=context.Context()))
    try:
        yield
    finally:
        context.detach(token)


untraced = suppress_instrumentation
