"""The notifications app: the event consumer and the internal export route."""

from __future__ import annotations

from aiohttp import web

from services.notifications.config import Settings
from services.notifications.handlers import SETTINGS, export_customer
from services.notifications.messages import QUEUE, event_handlers, notifier_ctx
from services.notifications.rendering import Renderer
from shared.service import add_consumer, create_service_app


def create_app(settings: Settings) -> web.Application:
    app = create_service_app(settings)
    app[SETTINGS] = settings
    # After the pool and the HTTP client (create_service_app), before the consumer.
    app.cleanup_ctx.append(notifier_ctx(settings, Renderer()))
    add_consumer(app, settings, QUEUE, event_handlers(app))
    app.router.add_get("/internal/customers/{customer_id}/export", export_customer)
    return app
