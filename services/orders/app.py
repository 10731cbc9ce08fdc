"""The orders service's aiohttp app: routes, the event consumer, the outbox relay, the
bank queue, the periodic maintenance task and the retention runs."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from aiohttp import web

from shared.messaging import declare_bank_queue
from shared.service import (
    AMQP,
    add_consumer,
    add_outbox_relay,
    courier_queues_ctx,
    create_service_app,
)

from . import messages
from .config import Settings
from .handlers import add_routes
from .keys import SETTINGS
from .maintenance import maintenance_ctx
from .retention import orders_retention_ctx


def bank_queue_ctx(bank: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """The shop declares the bank adapter's queue, so no request is lost before it starts."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with app[AMQP].channel() as channel:
            await declare_bank_queue(channel, bank)
        yield

    return ctx


def create_app(settings: Settings) -> web.Application:
    app = create_service_app(settings)
    app[SETTINGS] = settings
    add_routes(app)
    app.cleanup_ctx.append(bank_queue_ctx(settings.bank_code))
    app.cleanup_ctx.append(courier_queues_ctx(tuple(settings.couriers)))
    add_outbox_relay(app, settings)
    add_consumer(app, settings, messages.QUEUE, messages.event_handlers(app))
    app.cleanup_ctx.append(maintenance_ctx(settings))
    app.cleanup_ctx.append(orders_retention_ctx(settings))
    return app
