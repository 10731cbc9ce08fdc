"""Every service's ``/metrics``: requests by route template, consumer counts, dead-queue
depth and the outbox backlog, with no label value taken from what a client sent."""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from uuid import UUID, uuid4

import aio_pika
import aiohttp
import asyncpg
import pytest
from aiohttp import web

from shared.contracts import CustomerErased
from shared.db import DbConn, create_pool
from shared.messaging import OutboxRelay, enqueue
from shared.messaging.consumer import IncomingMeta, PermanentFailure
from shared.metrics import METRICS, Metrics
from shared.service import add_consumer, create_service_app, running_app
from shared.settings import ServiceSettings
from tests.metrics_helpers import Samples, samples, scrape_text, value
from tests.shared.messaging_helpers import publish

QUEUE = "kit.metrics"
EMAIL = "aigerim.metrics@example.kz"


def erased(customer_id: UUID) -> CustomerErased:
    return CustomerErased(customer_id=customer_id, request_id=uuid4(), erased_at=datetime.now(UTC))


@dataclass
class Kit:
    url: str
    dsn: str
    amqp_url: str
    app: web.Application
    failing: set[UUID]
    refusing: set[UUID]

    async def scrape(self) -> Samples:
        return samples(await scrape_text(self.url))


@pytest.fixture
async def kit(make_database, fresh_vhost, signing_keys) -> AsyncIterator[Kit]:
    dsn = await make_database("kit")
    settings = ServiceSettings(
        database_url=dsn,
        amqp_url=fresh_vhost,
        jwt_public_key=signing_keys[1],
        retry_delays_ms=(100,),
    )
    failing: set[UUID] = set()
    refusing: set[UUID] = set()

    async def on_erased(_conn: DbConn, event: CustomerErased, _meta: IncomingMeta) -> None:
        if event.customer_id in failing:
            raise RuntimeError("the handler fails")
        if event.customer_id in refusing:
            raise PermanentFailure("refused")

    async def contact(request: web.Request) -> web.Response:
        return web.json_response({"ok": True})

    app = create_service_app(settings, pool_size=3)
    app.router.add_get("/api/customers/me/contacts/{value}", contact)
    add_consumer(app, settings, QUEUE, {CustomerErased: on_erased})
    app[METRICS].cache_s = 0.0  # every scrape reads afresh here
    async with running_app(app) as url:
        yield Kit(url, dsn, fresh_vhost, app, failing, refusing)


async def eventually(check: Callable[[], Awaitable[bool]], timeout: float = 15) -> None:
    async with asyncio.timeout(timeout):
        while not await check():
            await asyncio.sleep(0.1)


async def test_requests_are_counted_by_route_template_never_by_path(kit: Kit) -> None:
    async with aiohttp.ClientSession() as http:
        for _ in range(2):
            async with http.get(f"{kit.url}/api/customers/me/contacts/{EMAIL}") as response:
                assert response.status == 200
        async with http.get(f"{kit.url}/nowhere/{EMAIL}") as response:
            assert response.status == 404
        async with http.request("PROPFIND", f"{kit.url}/api/customers/me/contacts/x") as r:
            assert r.status == 405
    text = await scrape_text(kit.url)
    found = samples(text)
    route = "/api/customers/me/contacts/{value}"
    requests = "shop_http_requests_total"
    assert value(found, requests, route=route, method="GET", status="200") == 2
    assert value(found, requests, route="(unmatched)", method="GET", status="404") == 1
    assert value(found, requests, route="(unmatched)", method="other", status="405") == 1
    latency = "shop_http_request_duration_seconds_count"
    assert value(found, latency, route=route, method="GET") == 2
    for sent in (EMAIL, "aigerim", "example.kz", "nowhere", "PROPFIND", "contacts/x"):
        assert sent not in text


async def test_consumer_counts_handled_retried_parked_and_the_dead_queue_depth(kit: Kit) -> None:
    fails, refused = uuid4(), uuid4()
    kit.failing.add(fails)
    kit.refusing.add(refused)
    for customer_id in (uuid4(), uuid4(), fails, refused):
        await publish(kit.amqp_url, erased(customer_id))

    async def counted() -> bool:
        found = await kit.scrape()
        return value(found, "shop_messages_parked_total", queue=QUEUE) == 2

    await eventually(counted)
    found = await kit.scrape()
    assert value(found, "shop_messages_handled_total", queue=QUEUE) == 2
    assert value(found, "shop_messages_retried_total", queue=QUEUE) == 1
    assert value(found, "shop_dead_queue_messages", queue=QUEUE) == 2
    assert str(fails) not in await scrape_text(kit.url)


async def test_the_outbox_backlog_and_its_oldest_row_show_while_the_relay_is_stopped(
    kit: Kit, amqp: aio_pika.abc.AbstractRobustConnection
) -> None:
    found = await kit.scrape()
    assert value(found, "shop_outbox_backlog") == 0
    assert value(found, "shop_outbox_oldest_unpublished_age_seconds") == 0
    pool: asyncpg.Pool = await create_pool(kit.dsn, max_size=2)
    try:
        async with pool.acquire() as conn, conn.transaction():
            for _ in range(3):
                await enqueue(conn, erased(uuid4()))
        await pool.execute("UPDATE outbox SET created_at = now() - interval '90 seconds'")
        found = await kit.scrape()
        assert value(found, "shop_outbox_backlog") == 3
        assert value(found, "shop_outbox_oldest_unpublished_age_seconds") >= 90
        assert await OutboxRelay(pool, amqp, dsn=kit.dsn).publish_batch() == 3
    finally:
        await pool.close()
    found = await kit.scrape()
    assert value(found, "shop_outbox_backlog") == 0
    assert value(found, "shop_outbox_oldest_unpublished_age_seconds") == 0


async def test_a_scrape_within_the_cache_period_reuses_the_last_reading(kit: Kit) -> None:
    kit.app[METRICS].cache_s = 3600.0
    assert value(await kit.scrape(), "shop_outbox_backlog") == 0
    conn = await asyncpg.connect(kit.dsn)
    try:
        async with conn.transaction():
            await enqueue(conn, erased(uuid4()))
    finally:
        await conn.close()
    assert value(await kit.scrape(), "shop_outbox_backlog") == 0
    kit.app[METRICS].cache_s = 0.0
    assert value(await kit.scrape(), "shop_outbox_backlog") == 1


def test_each_app_has_its_own_registry() -> None:
    first, second = Metrics(), Metrics()
    first.count_release("marketing", "notifications", 3)
    assert (
        first.registry.get_sample_value(
            "shop_releases_total", {"purpose": "marketing", "recipient": "notifications"}
        )
        == 3
    )
    assert (
        second.registry.get_sample_value(
            "shop_releases_total", {"purpose": "marketing", "recipient": "notifications"}
        )
        is None
    )


DASHBOARD = Path(__file__).parents[2] / "deploy" / "grafana" / "shop-dashboard.json"
SUFFIXES = {"counter": ("_total",), "gauge": ("",), "histogram": ("_bucket", "_count", "_sum")}


def exposed_names(text: str) -> set[str]:
    """Every sample name the exposition declares, series touched or not (from ``# TYPE``)."""
    names = set()
    for line in text.splitlines():
        if line.startswith("# TYPE "):
            _, _, family, kind = line.split(" ")
            base = family.removesuffix("_total") if kind == "counter" else family
            names.update(base + suffix for suffix in SUFFIXES[kind])
    return names


async def test_the_dashboard_asks_only_for_metrics_the_services_expose(kit: Kit) -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    exprs = [target["expr"] for panel in dashboard["panels"] for target in panel["targets"]]
    exprs.append(dashboard["templating"]["list"][1]["query"]["query"])
    exposed = exposed_names(await scrape_text(kit.url))
    assert {"shop_http_requests_total", "shop_releases_total"} <= exposed
    for expr in exprs:
        asked = set(re.findall(r"\bshop_[a-z_]+", expr))
        assert asked, expr
        assert asked <= exposed, expr
        assert expr.count("(") == expr.count(")"), expr
    ids = [panel["id"] for panel in dashboard["panels"]]
    assert len(ids) == len(set(ids)) and dashboard["uid"] and dashboard["title"]


async def test_a_reading_that_hangs_leaves_the_scrape_answering(
    kit: Kit, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("shared.metrics.PROBE_TIMEOUT_S", 0.2)
    never = asyncio.Event()

    async def hangs() -> None:
        await never.wait()

    kit.app[METRICS].add_probe("hangs", hangs)
    found = await kit.scrape()
    assert value(found, "shop_metrics_probe_failures_total", probe="hangs") == 1
    assert value(found, "shop_metrics_probe_failures_total", probe="outbox") == 0
    assert ("shop_outbox_backlog", frozenset()) in found
