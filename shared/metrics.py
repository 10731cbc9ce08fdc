"""Prometheus metrics of a service, served at ``GET /metrics`` on its own port (the gateway
never routes that path).

Each app has its own ``CollectorRegistry`` under ``METRICS`` (never the library's global
default one), so several apps in one process (the tests) count apart. Label values are only
ever things the service decided: a route's template (never the path a client sent, which may
hold an id, an email or a phone), a method from a fixed list, a status, a queue name, a
release's purpose and recipient. Nothing a client sent, no personal value, no id.

Gauges that need a query (the outbox backlog, a dead queue's depth) are read when a scrape
comes, each bounded by a timeout and cached a few seconds, so frequent scrapes cost little
and a slow database or broker cannot hold the answer.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import asyncpg
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import generate_latest

from shared.http import route_path
from shared.logging import get_logger
from shared.messaging.supervisor import close_quietly, open_channel
from shared.messaging.topology import dead_queue_name

log = get_logger("shared.metrics")

UNMATCHED = "(unmatched)"  # the route label of a request no route matched
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
OTHER_METHOD = "other"
PROBE_TIMEOUT_S = 2.0
PROBE_CACHE_S = 5.0
LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)

Probe = Callable[[], Awaitable[None]]


@dataclass(frozen=True)
class ConsumerCounters:
    """What a consumer counts for its queue: handled (acked after its handler, a duplicate
    skipped included), sent to a retry tier, parked in the dead queue."""

    handled: Counter
    retried: Counter
    parked: Counter


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.requests = Counter(
            "shop_http_requests",
            "HTTP requests answered, by route template, method and status.",
            ("route", "method", "status"),
            registry=r,
        )
        self.latency = Histogram(
            "shop_http_request_duration_seconds",
            "Time to answer an HTTP request, by route template and method.",
            ("route", "method"),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self._answer_children: dict[tuple[str, str, int], tuple[Counter, Histogram]] = {}
        self.outbox_backlog = Gauge(
            "shop_outbox_backlog", "Outbox rows not yet published.", registry=r
        )
        self.outbox_oldest_age = Gauge(
            "shop_outbox_oldest_unpublished_age_seconds",
            "Age of the oldest unpublished outbox row (0 when none).",
            registry=r,
        )
        self.consumed = Counter(
            "shop_messages_handled", "Messages handled by a consumer.", ("queue",), registry=r
        )
        self.retried = Counter(
            "shop_messages_retried",
            "Messages sent to a retry tier after their handler failed.",
            ("queue",),
            registry=r,
        )
        self.parked = Counter(
            "shop_messages_parked", "Messages parked in a dead queue.", ("queue",), registry=r
        )
        self.dead_depth = Gauge(
            "shop_dead_queue_messages", "Messages in a dead queue.", ("queue",), registry=r
        )
        self.releases = Counter(
            "shop_releases",
            "Personal-data releases recorded in the disclosure register, by purpose and"
            " recipient (counts only).",
            ("purpose", "recipient"),
            registry=r,
        )
        self.probe_failures = Counter(
            "shop_metrics_probe_failures",
            "Scrape-time readings that failed or timed out (the gauge keeps its last value).",
            ("probe",),
            registry=r,
        )
        self._probes: list[CachedProbe] = []
        self.cache_s = PROBE_CACHE_S

    def answered(self, route: str, method: str, status: int, seconds: float) -> None:
        """One HTTP answer counted and timed. The labelled series are kept here: ``labels()``
        checks its arguments and takes a lock on every call, once per request otherwise."""
        key = (route, method, status)
        series = self._answer_children.get(key)
        if series is None:
            series = self._answer_children[key] = (
                self.requests.labels(route, method, str(status)),
                self.latency.labels(route, method),
            )
        series[0].inc()
        series[1].observe(seconds)

    def consumer(self, queue: str) -> ConsumerCounters:
        return ConsumerCounters(
            self.consumed.labels(queue), self.retried.labels(queue), self.parked.labels(queue)
        )

    def count_release(self, purpose: str, recipient: str, count: int = 1) -> None:
        if count:
            self.releases.labels(purpose, recipient).inc(count)

    def add_probe(self, name: str, probe: Probe) -> None:
        self._probes.append(CachedProbe(name, probe, self.probe_failures.labels(name)))

    async def refresh(self) -> None:
        await asyncio.gather(*(probe.refresh(self.cache_s) for probe in self._probes))

    def render(self) -> bytes:
        return generate_latest(self.registry)


class CachedProbe:
    """A scrape-time reading, taken at most once per ``cache_s`` and bounded by
    ``PROBE_TIMEOUT_S``; concurrent scrapes share one reading."""

    def __init__(self, name: str, probe: Probe, failures: Counter) -> None:
        self.name = name
        self._probe = probe
        self._failures = failures
        self._read_at: float | None = None
        self._lock = asyncio.Lock()

    async def refresh(self, cache_s: float) -> None:
        async with self._lock:
            if self._read_at is not None and time.monotonic() - self._read_at < cache_s:
                return
            try:
                async with asyncio.timeout(PROBE_TIMEOUT_S):
                    await self._probe()
            except Exception as exc:  # a scrape must answer whatever the database does
                self._failures.inc()
                log.warning("metrics probe failed", probe=self.name, error=type(exc).__name__)
            self._read_at = time.monotonic()


METRICS = web.AppKey("metrics", Metrics)


@web.middleware
async def metrics_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Count and time every answer by the matched route's template, never the raw path."""
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = route_path(request) or UNMATCHED
        method = request.method if request.method in METHODS else OTHER_METHOD
        metrics = request.config_dict[METRICS]
        metrics.answered(route, method, status, time.perf_counter() - started)


async def metrics_handler(request: web.Request) -> web.Response:
    metrics = request.config_dict[METRICS]
    await metrics.refresh()
    response = web.Response(body=metrics.render())
    response.headers["Content-Type"] = CONTENT_TYPE_LATEST
    response.headers["Cache-Control"] = "no-store"
    return response


def add_metrics(app: web.Application) -> Metrics:
    """The app's registry, its middleware (put it first) and ``GET /metrics``."""
    metrics = app[METRICS] = Metrics()
    app.router.add_get("/metrics", metrics_handler)
    return metrics


def outbox_probe(metrics: Metrics, pool: Callable[[], asyncpg.Pool]) -> Probe:
    """The outbox backlog and the age of its oldest unpublished row (a partial index scan)."""

    async def probe() -> None:
        row = await pool().fetchrow(
            "SELECT count(*) AS backlog,"
            " coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS age"
            " FROM outbox WHERE published_at IS NULL"
        )
        assert row is not None
        metrics.outbox_backlog.set(row["backlog"])
        metrics.outbox_oldest_age.set(max(row["age"], 0.0))

    return probe


def dead_queue_probe(
    metrics: Metrics, connection: Callable[[], AbstractRobustConnection], queue: str
) -> Probe:
    """The depth of ``queue``'s dead queue: a passive declare's message count."""

    async def probe() -> None:
        channel = await open_channel(connection(), publisher_confirms=False)
        try:
            dead = await channel.declare_queue(dead_queue_name(queue), passive=True)
            metrics.dead_depth.labels(queue).set(dead.declaration_result.message_count or 0)
        finally:
            await close_quietly(channel)

    return probe
