"""One trace through the whole shop (issue 12, "Observe it"): the four services run as
``make up`` runs them, as processes exporting OTLP/HTTP to a collector stand-in, and a
cash-on-delivery order goes from checkout through catalog, customers, the courier dispatch
and the mail. Every span of it shares one trace id, each internal HTTP call and each message
hop is linked to its parent, the logs name the same trace, and no span anywhere carries the
customer's name, email or phone (not even the query string a client sent them in)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from tests import infra
from tests.e2e.otlp_collector import ReceivedSpan, running_collector
from tests.e2e.shopper import Profile
from tests.e2e.shopper import Shopper as BaseShopper
from tests.e2e.stack import SERVICES, running_stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

ADDRESS = {"city": "Шымкент", "street": "Тауке хана", "house": "31", "apartment": "9"}
LAST_NAME, FIRST_NAME = "Трассирова", "Меруерт"


class Shopper(BaseShopper):
    profile = Profile("trace", LAST_NAME, FIRST_NAME, "747", ADDRESS)


@pytest.fixture(scope="module")
async def traced(
    servers: infra.Servers, shop_vhost: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[dict[str, Any]]:
    """Run the flow once with the services exporting; stop them (which flushes their spans)
    and hand over what the collector received and what the services logged."""
    workdir = tmp_path_factory.mktemp("traced")
    async with running_collector() as (collector, collector_url):
        env = {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_EXPORTER_OTLP_PROTOCOL": "http/protobuf",
            "OTEL_EXPORTER_OTLP_ENDPOINT": collector_url,
            "OTEL_BSP_SCHEDULE_DELAY": "200",
        }
        async with (
            running_stack(servers, shop_vhost, workdir, service_processes=env) as shop,
            aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session,
        ):
            shopper = Shopper(session, shop.gateway_url)
            await shopper.sign_up(1)
            phone = "+7 747 000 0001"
            # Personal data in a query string, where a careless client might put it.
            await shopper.call("GET", f"/api/catalog/products?limit=5&q={shopper.email}")
            product = await shopper.in_stock_product()
            order = await shopper.checkout(product, "cash_on_delivery")
            await shopper.wait_status(order["id"], "dispatched", within_s=30)
            await shop.sink.wait_for(
                lambda m: shopper.email in m.to and order["order_ref"] in m.body(), timeout=30
            )
            email = shopper.email
        yield {
            "spans": list(collector.spans),
            "order": order,
            "pd": [
                email,
                email.split("@")[0],
                phone,
                "+77470000001",
                "7470000001",
                LAST_NAME,
                FIRST_NAME,
                ADDRESS["street"],
            ],
            "logs": {name: log_lines(workdir / "logs" / f"{name}.log") for name in SERVICES},
        }


def log_lines(path: Path) -> list[dict[str, Any]]:
    lines = []
    for line in path.read_text(errors="replace").splitlines():
        if line.startswith("{"):
            lines.append(json.loads(line))
    return lines


def the_checkout(spans: list[ReceivedSpan]) -> ReceivedSpan:
    [checkout] = [
        s
        for s in spans
        if s.service == "orders" and s.kind == "SERVER" and s.name == "POST /api/orders/checkout"
    ]
    return checkout


def of_trace(spans: list[ReceivedSpan], trace_id: str) -> dict[str, ReceivedSpan]:
    return {s.span_id: s for s in spans if s.trace_id == trace_id}


def calls(trace: dict[str, ReceivedSpan], caller: str, callee: str, route: str) -> list:
    """(client span, server span) pairs where ``caller`` called ``callee``'s ``route``."""
    return [
        (trace[server.parent_span_id], server)
        for server in trace.values()
        if server.service == callee
        and server.kind == "SERVER"
        and server.attributes.get("http.route") == route
        and server.parent_span_id in trace
        and trace[server.parent_span_id].service == caller
        and trace[server.parent_span_id].kind == "CLIENT"
    ]


async def test_the_order_is_one_trace_across_every_service(traced):
    spans = traced["spans"]
    checkout = the_checkout(spans)
    trace = of_trace(spans, checkout.trace_id)
    assert {s.service for s in trace.values()} == set(SERVICES)
    # Every span but the checkout (whose parent is the gateway's traceparent) hangs off a span
    # of the same trace: nothing started a trace of its own on the way.
    orphans = [
        (s.service, s.kind, s.name)
        for s in trace.values()
        if s is not checkout and s.parent_span_id not in trace
    ]
    assert not orphans


async def test_internal_http_calls_are_parent_linked(traced):
    trace = of_trace(traced["spans"], the_checkout(traced["spans"]).trace_id)
    assert calls(trace, "orders", "catalog", "/internal/products")
    mail_releases = calls(trace, "notifications", "customers", "/internal/releases")
    assert mail_releases
    for client, _server in mail_releases:
        assert "?" not in str(client.attributes.get("url.full", client.attributes.get("http.url")))


async def test_message_hops_are_parent_linked(traced):
    trace = of_trace(traced["spans"], the_checkout(traced["spans"]).trace_id)
    consumers = [s for s in trace.values() if s.kind == "CONSUMER"]
    # catalog (OrderPlaced), orders (StockReserved, DispatchReleased), customers
    # (DispatchRequested), notifications (OrderDispatched) each continue a published message.
    assert {s.service for s in consumers} == set(SERVICES)
    for consumer in consumers:
        producer = trace[consumer.parent_span_id]
        assert producer.kind == "PRODUCER", (consumer.name, producer.name)
    # The mail went out in it too (notifications' SMTP session).
    assert any(s.service == "notifications" and s.name == "smtp send" for s in trace.values())
    producers = {s.name for s in trace.values() if s.kind == "PRODUCER"}
    # The courier's dispatch message went out in the same trace.
    assert any(name.startswith("shop.dispatch,courier.") for name in producers), producers
    # The checkout's own message hangs off the checkout request.
    checkout = the_checkout(traced["spans"])
    [placed] = [s for s in trace.values() if s.kind == "CONSUMER" and s.service == "catalog"]
    ancestors = set()
    span = placed
    while span.parent_span_id in trace:
        span = trace[span.parent_span_id]
        ancestors.add(span.span_id)
    assert checkout.span_id in ancestors


async def test_the_logs_carry_the_trace_and_span_ids(traced):
    trace = of_trace(traced["spans"], the_checkout(traced["spans"]).trace_id)
    [reserved] = [line for line in traced["logs"]["catalog"] if line["event"] == "stock reserved"]
    assert reserved["trace_id"] == the_checkout(traced["spans"]).trace_id
    assert reserved["span_id"] in trace


async def test_sql_is_traced_as_text_with_placeholders(traced):
    statements = [
        str(s.attributes["db.statement"]) for s in traced["spans"] if "db.statement" in s.attributes
    ]
    assert any("$1" in statement for statement in statements)
    assert not any("db.statement.parameters" in s.attributes for s in traced["spans"])


async def test_no_span_carries_personal_data(traced):
    spans = traced["spans"]
    assert len(spans) > 50  # the search below means something
    for span in spans:
        text = json.dumps(
            [span.name, span.attributes, span.events, span.status_message], ensure_ascii=False
        )
        leaked = [value for value in traced["pd"] if value in text]
        assert not leaked, (span.service, span.name, leaked)
        assert not {"http.target", "url.query", "user_agent.original"} & set(span.attributes)
