"""The catalog's aiohttp app: routes, the consumer of order events, the outbox relay,
retention, the promotions' scheduler."""

from __future__ import annotations

from aiohttp import web

from services.catalog import messages
from services.catalog.config import Settings
from services.catalog.keys import SETTINGS
from services.catalog.promotion_events import promotion_schedule_ctx
from services.catalog.retention import catalog_retention_ctx
from services.catalog.routes import OPERATIONS
from services.catalog.visits import visits_ctx
from shared.openapi import add_description_routes, add_operations
from shared.service import add_consumer, add_outbox_relay, create_service_app


def create_app(settings: Settings) -> web.Application:
    app = create_service_app(settings, pool_size=settings.pool_size)
    app[SETTINGS] = settings
    add_description_routes(app.router, "catalog", "Catalog", OPERATIONS)
    add_operations(app.router, OPERATIONS)
    add_consumer(app, settings, messages.QUEUE, messages.event_handlers(app))
    add_outbox_relay(app, settings)
    app.cleanup_ctx.append(visits_ctx(settings))
    app.cleanup_ctx.append(catalog_retention_ctx(settings))
    app.cleanup_ctx.append(promotion_schedule_ctx(settings))
    return app
