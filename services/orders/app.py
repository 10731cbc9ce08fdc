"""The orders service's aiohttp app: routes, the event consumer, the outbox relay, the
bank queue and the periodic maintenance task."""

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

from . import handlers, messages, payments, staff
from .config import Settings
from .maintenance import maintenance_ctx


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/api/orders/cart", handlers.get_cart)
    router.add_post("/api/orders/cart/items", handlers.add_cart_item)
    router.add_delete("/api/orders/cart/items/{product_id}", handlers.remove_cart_item)
    router.add_post("/api/orders/checkout", handlers.checkout)
    router.add_get("/api/orders", handlers.list_orders)
    router.add_get("/api/orders/attention", staff.attention)
    router.add_get("/api/orders/stats/networks", staff.network_stats)
    router.add_get("/api/orders/{order_id}", handlers.get_order)
    router.add_post("/api/orders/{order_id}/cancel", handlers.cancel_order)
    router.add_post("/api/payments/{bank}/callbacks", payments.bank_callback)
    router.add_post("/api/fulfilment/{courier}/callbacks", handlers.courier_callback)
    router.add_get("/internal/customers/{customer_id}/export", handlers.export_customer)


def bank_queue_ctx(bank: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """The shop declares the bank adapter's queue, so no request is lost before it starts."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        async with app[AMQP].channel() as channel:
            await declare_bank_queue(channel, bank)
        yield

    return ctx


def create_app(settings: Settings) -> web.Application:
    app = create_service_app(settings)
    app[handlers.SETTINGS] = settings
    add_routes(app)
    app.cleanup_ctx.append(bank_queue_ctx(settings.bank_code))
    app.cleanup_ctx.append(courier_queues_ctx(tuple(settings.couriers)))
    add_outbox_relay(app, settings)
    add_consumer(app, settings, messages.QUEUE, messages.handlers(settings))
    app.cleanup_ctx.append(maintenance_ctx(settings))
    return app
