"""shared.telemetry without a collector: what an exported span keeps, and the trace carried
with tracing off (the API's no-op tracer), as the outbox and the logs see it."""

from __future__ import annotations

import io
import json
import logging

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, Status, StatusCode

from shared.logging import configure_logging, get_logger
from shared.telemetry import (
    PrivateSpans,
    continued,
    current_traceparent,
    from_traceparent,
    otlp_exporter,
    without_query,
)

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
TRACEPARENT = f"00-{TRACE_ID}-00f067aa0ba902b7-01"
EMAIL = "aigerim.canary@example.kz"


def exported(kind: SpanKind, attributes: dict[str, str], error: Exception | None = None):
    memory = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(PrivateSpans(memory)))
    span = provider.get_tracer("test").start_span("GET /api/things", kind=kind)
    span.set_attributes(attributes)
    if error is not None:
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, str(error)))
    span.end()
    [received] = memory.get_finished_spans()
    return received


def test_a_server_span_keeps_the_route_and_nothing_a_client_sent():
    span = exported(
        SpanKind.SERVER,
        {
            "http.request.method": "GET",
            "http.route": "/api/things",
            "http.target": f"/api/things?email={EMAIL}",
            "url.query": f"email={EMAIL}",
            "http.url": f"http://shop/api/things?email={EMAIL}",
            "user_agent.original": "Mozilla/5.0",
            "http.request.header.cookie": "cart_id=1",
        },
        error=ValueError(f"duplicate key ({EMAIL})"),
    )
    assert dict(span.attributes or {}) == {
        "http.request.method": "GET",
        "http.route": "/api/things",
    }
    assert EMAIL not in repr([(e.name, dict(e.attributes or {})) for e in span.events])
    assert [dict(e.attributes or {}) for e in span.events] == [{"exception.type": "ValueError"}]
    assert not span.status.description


def test_a_client_span_keeps_the_url_it_called_without_the_query():
    span = exported(
        SpanKind.CLIENT,
        {"url.full": f"http://catalog:8101/internal/products?ids=1&email={EMAIL}"},
    )
    assert dict(span.attributes or {}) == {"url.full": "http://catalog:8101/internal/products"}
    assert without_query("http://h/p?q=1#f") == "http://h/p"


def test_sql_keeps_its_text_and_never_its_parameters():
    span = exported(
        SpanKind.CLIENT,
        {
            "db.system": "postgresql",
            "db.statement": "SELECT id FROM accounts WHERE login_index = $1",
            "db.statement.parameters": f"('{EMAIL}',)",
        },
    )
    assert dict(span.attributes or {}) == {
        "db.system": "postgresql",
        "db.statement": "SELECT id FROM accounts WHERE login_index = $1",
    }


def test_with_tracing_off_an_incoming_trace_goes_on_to_the_outbox_and_the_logs():
    buffer = io.StringIO()
    configure_logging("test", "INFO", stream=buffer)
    try:
        assert current_traceparent() is None
        with continued({"traceparent": TRACEPARENT, "x-shop-attempt": 1}):
            assert current_traceparent() == TRACEPARENT
            get_logger("test").info("handled")
        with from_traceparent(TRACEPARENT):
            assert current_traceparent() == TRACEPARENT
        with from_traceparent(None):
            assert current_traceparent() is None
    finally:
        logging.getLogger().handlers.clear()
    [line] = [json.loads(text) for text in buffer.getvalue().splitlines()]
    assert (line["trace_id"], line["span_id"]) == (TRACE_ID, "00f067aa0ba902b7")


def test_request_headers_continue_a_trace_whatever_the_case_of_the_name():
    from multidict import CIMultiDict, CIMultiDictProxy

    headers = CIMultiDictProxy(CIMultiDict({"Traceparent": TRACEPARENT, "Accept": "*/*"}))
    with continued(headers):
        assert current_traceparent() == TRACEPARENT
    with continued(CIMultiDictProxy(CIMultiDict({"Accept": "*/*"}))):
        assert current_traceparent() is None


def test_a_broken_traceparent_starts_nothing():
    with continued({"traceparent": "not-a-trace"}):
        assert current_traceparent() is None


def test_the_exporter_speaks_the_protocol_asked_for():
    from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter as Grpc
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter as Http

    assert isinstance(otlp_exporter("grpc"), Grpc)
    assert isinstance(otlp_exporter("http/protobuf"), Http)
