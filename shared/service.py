"""The common skeleton of a service's aiohttp app: middlewares, pool, broker, relay, consumers.

A service's ``app.py`` calls ``create_service_app`` and then adds its own routes, consumers
and contexts; everything here is explicit (``AppKey`` values, ``cleanup_ctx`` entries).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator, Callable, Mapping

from aio_pika.abc import AbstractRobustConnection
from aiohttp import ClientSession, ClientTimeout, web

from shared import eventloop
from shared.auth import TOKEN_VERIFIER, TokenVerifier, auth_middleware
from shared.contracts import AccessRevoked, Contract
from shared.db import PG_POOL, pg_pool_ctx
from shared.http import add_health_routes, problem_middleware, trace_middleware
from shared.logging import configure_logging, get_logger
from shared.messaging.consumer import Consumer, Handler, consumer_ctx
from shared.messaging.outbox import BodyCipher, OutboxRelay, outbox_relay_ctx
from shared.messaging.supervisor import connect
from shared.messaging.topology import declare_courier_queue, declare_exchanges
from shared.metrics import (
    METRICS,
    add_metrics,
    dead_queue_probe,
    metrics_middleware,
    outbox_probe,
)
from shared.protocol import RouteAccessLogger, ServiceRunner
from shared.revocations import REVOCATIONS, Revocations, on_access_revoked, revocations_ctx
from shared.settings import ServiceSettings
from shared.telemetry import client_trace_config

AMQP = web.AppKey("amqp", AbstractRobustConnection)
CONNECTION_CLOSE_S = 10.0
HTTP_CLIENT = web.AppKey("http_client", ClientSession)
log = get_logger("shared.service")


def amqp_ctx(url: str) -> Callable[[web.Application], AsyncIterator[None]]:
    async def ctx(app: web.Application) -> AsyncIterator[None]:
        connection = await connect(url)
        async with connection.channel() as channel:
            await declare_exchanges(channel)
        app[AMQP] = connection
        yield
        try:
            await asyncio.wait_for(connection.close(), CONNECTION_CLOSE_S)
        except TimeoutError:
            log.warning("broker connection did not close in time")

    return ctx


def courier_queues_ctx(
    couriers: tuple[str, ...],
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Declare each configured courier's durable queue at start-up, before anything is sent
    to it (customers sends dispatch messages, orders sends cancellations)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with app[AMQP].channel() as channel:
            for courier in couriers:
                await declare_courier_queue(channel, courier)
        yield

    return ctx


async def http_client_ctx(app: web.Application) -> AsyncIterator[None]:
    app[HTTP_CLIENT] = ClientSession(
        timeout=ClientTimeout(total=10), trace_configs=[client_trace_config()]
    )
    yield
    await app[HTTP_CLIENT].close()


async def _database_ready(app: web.Application) -> None:
    await asyncio.wait_for(app[PG_POOL].fetchval("SELECT 1"), 2)


async def _broker_ready(app: web.Application) -> None:
    connection = app[AMQP]
    if connection.is_closed:
        raise ConnectionError("broker connection closed")
    channel = await asyncio.wait_for(connection.channel(), 2)
    await channel.close()


def create_service_app(settings: ServiceSettings, *, pool_size: int = 10) -> web.Application:
    app = web.Application(
        middlewares=[trace_middleware, metrics_middleware, problem_middleware, auth_middleware],
        client_max_size=settings.max_body_bytes,
    )
    metrics = add_metrics(app)
    # Every service has an outbox (shared migrations): its backlog shows even with no relay.
    metrics.add_probe("outbox", outbox_probe(metrics, lambda: app[PG_POOL]))
    app[REVOCATIONS] = Revocations()
    app[TOKEN_VERIFIER] = TokenVerifier(settings.public_key_pem(), revocations=app[REVOCATIONS])
    app.cleanup_ctx.append(pg_pool_ctx(settings.database_url, max_size=pool_size))
    app.cleanup_ctx.append(revocations_ctx(settings.database_url))
    app.cleanup_ctx.append(amqp_ctx(settings.amqp_url))
    app.cleanup_ctx.append(http_client_ctx)
    add_health_routes(app, [("database", _database_ready), ("broker", _broker_ready)])
    return app


def add_outbox_relay(
    app: web.Application, settings: ServiceSettings, *, cipher: BodyCipher | None = None
) -> None:
    app.cleanup_ctx.append(
        outbox_relay_ctx(
            lambda a: OutboxRelay(
                a[PG_POOL],
                a[AMQP],
                dsn=settings.database_url,
                cipher=cipher,
                retention_s=settings.outbox_retention_s,
            )
        )
    )


def add_consumer(
    app: web.Application,
    settings: ServiceSettings,
    queue: str,
    handlers: Mapping[type[Contract], Handler],
    *,
    record_revocations: bool = True,
) -> None:
    """The service's consumer of ``queue``. Every service records ``AccessRevoked`` in its
    own table (``shared.revocations``) on top of its handlers; the customers service, which
    records it in the revoking transaction itself, passes ``record_revocations=False``."""
    if record_revocations:
        handlers = {AccessRevoked: on_access_revoked, **handlers}
    metrics = app[METRICS]
    metrics.add_probe(f"dead:{queue}", dead_queue_probe(metrics, lambda: app[AMQP], queue))
    app.cleanup_ctx.append(
        consumer_ctx(
            lambda a: Consumer(
                queue=queue,
                pool=a[PG_POOL],
                connection=a[AMQP],
                handlers=handlers,
                retry_delays_ms=settings.retry_delays_ms,
                delivery_limit=settings.delivery_limit,
                counters=metrics.consumer(queue),
            )
        )
    )


def run_service(name: str, app: web.Application, settings: ServiceSettings) -> None:
    configure_logging(name, settings.log_level)
    log.info("starting", service=name, port=settings.http_port)
    eventloop.run(_serve(app, settings))


async def _serve(app: web.Application, settings: ServiceSettings) -> None:
    """Serve ``app`` until SIGINT or SIGTERM, then shut it down gracefully (as ``web.run_app``,
    but through ``ServiceRunner``, which answers aiohttp's own errors as problems)."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    runner = ServiceRunner(
        app,
        access_log=logging.getLogger("aiohttp.access") if settings.access_log else None,
        access_log_class=RouteAccessLogger,
    )
    await runner.setup()
    try:
        await web.TCPSite(runner, settings.http_host, settings.http_port).start()
        await stop.wait()
    finally:
        await runner.cleanup()


@contextlib.asynccontextmanager
async def running_app(
    app: web.Application, host: str = "127.0.0.1", port: int = 0
) -> AsyncIterator[str]:
    """Start ``app`` on a real socket and yield its base URL (tests and benchmarks)."""
    runner = ServiceRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    server = site._server
    assert server is not None
    sockets = getattr(server, "sockets", None) or []
    actual_port = sockets[0].getsockname()[1] if sockets else port
    try:
        yield f"http://{host}:{actual_port}"
    finally:
        await runner.cleanup()
