"""A stand-in for an OpenTelemetry collector: OTLP/HTTP protobuf in, spans kept in memory.

It speaks the real protocol (``POST /v1/traces``, an ``ExportTraceServiceRequest``, answered
with an ``ExportTraceServiceResponse``) and decodes with opentelemetry-proto, so what the
services' exporters send is checked as a collector would read it.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

from aiohttp import web
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTraceServiceRequest,
    ExportTraceServiceResponse,
)
from opentelemetry.proto.common.v1.common_pb2 import AnyValue
from opentelemetry.proto.trace.v1.trace_pb2 import Span as ProtoSpan

from shared.service import running_app

PROTOBUF = "application/x-protobuf"


def plain(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [plain(v) for v in value.array_value.values]
    if kind == "kvlist_value":
        return {kv.key: plain(kv.value) for kv in value.kvlist_value.values}
    return getattr(value, kind) if kind else None


@dataclass(frozen=True)
class ReceivedSpan:
    service: str
    name: str
    kind: str  # SERVER, CLIENT, PRODUCER, CONSUMER, INTERNAL
    trace_id: str
    span_id: str
    parent_span_id: str
    attributes: dict[str, object]
    events: list[tuple[str, dict[str, object]]]
    status_message: str
    proto: ProtoSpan = field(repr=False)


class Collector:
    def __init__(self) -> None:
        self.spans: list[ReceivedSpan] = []
        self.requests = 0

    async def receive(self, request: web.Request) -> web.Response:
        if request.content_type != PROTOBUF:
            return web.Response(status=415)
        export = ExportTraceServiceRequest()
        export.ParseFromString(await request.read())
        self.requests += 1
        for resource_spans in export.resource_spans:
            resource = {kv.key: plain(kv.value) for kv in resource_spans.resource.attributes}
            for scope_spans in resource_spans.scope_spans:
                for span in scope_spans.spans:
                    self.spans.append(self._received(str(resource.get("service.name")), span))
        return web.Response(
            body=ExportTraceServiceResponse().SerializeToString(), content_type=PROTOBUF
        )

    @staticmethod
    def _received(service: str, span: ProtoSpan) -> ReceivedSpan:
        return ReceivedSpan(
            service=service,
            name=span.name,
            kind=ProtoSpan.SpanKind.Name(span.kind).removeprefix("SPAN_KIND_"),
            trace_id=span.trace_id.hex(),
            span_id=span.span_id.hex(),
            parent_span_id=span.parent_span_id.hex(),
            attributes={kv.key: plain(kv.value) for kv in span.attributes},
            events=[
                (e.name, {kv.key: plain(kv.value) for kv in e.attributes}) for e in span.events
            ],
            status_message=span.status.message,
            proto=span,
        )

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/v1/traces", self.receive)
        return app


@contextlib.asynccontextmanager
async def running_collector() -> AsyncIterator[tuple[Collector, str]]:
    """A collector on a free port; yields it and its base URL (OTEL_EXPORTER_OTLP_ENDPOINT)."""
    collector = Collector()
    async with running_app(collector.app()) as url:
        yield collector, url
