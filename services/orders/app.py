"""The orders service's aiohttp app: routes, the event consumer and the outbox relay."""

from __future__ import annotations

from aiohttp import web

from shared.service import add_consumer, add_outbox_relay, create_service_app

from . import handlers, messages
from .config import Settings


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/api/orders/cart", handlers.get_cart)
    router.add_post("/api/orders/cart/items", handlers.add_cart_item)
    router.add_delete("/api/orders/cart/items/{product_id}", handlers.remove_cart_item)
    router.add_post("/api/orders/checkout", handlers.checkout)
    router.add_get("/api/orders", handlers.list_orders)
    router.add_get("/api/orders/{order_id}", handlers.get_order)
    router.add_post("/api/orders/{order_id}/cancel", handlers.cancel_order)
    router.add_post("/api/fulfilment/{courier}/callbacks", handlers.courier_callback)
    router.add_get("/internal/customers/{customer_id}/export", handlers.export_customer)


def create_app(settings: Settings) -> web.Application:
    app = create_service_app(settings)
    app[handlers.SETTINGS] = settings
    add_routes(app)
    add_outbox_relay(app, settings)
    add_consumer(app, settings, messages.QUEUE, messages.handlers())
    return app
