"""The catalog's aiohttp app: routes, the consumer of order events, the outbox relay,
retention, the promotions' scheduler."""

from __future__ import annotations

from aiohttp import web

from services.catalog import handlers, messages, promotion_handlers
from services.catalog.config import Settings
from services.catalog.keys import SETTINGS
from services.catalog.promotion_events import promotion_schedule_ctx
from services.catalog.retention import catalog_retention_ctx
from services.catalog.visits import visits_ctx
from shared.service import add_consumer, add_outbox_relay, create_service_app


def create_app(settings: Settings) -> web.Application:
    app = create_service_app(settings, pool_size=settings.pool_size)
    app[SETTINGS] = settings
    _add_routes(app.router)
    add_consumer(app, settings, messages.QUEUE, messages.event_handlers(app))
    add_outbox_relay(app, settings)
    app.cleanup_ctx.append(visits_ctx(settings))
    app.cleanup_ctx.append(catalog_retention_ctx(settings))
    app.cleanup_ctx.append(promotion_schedule_ctx(settings))
    return app


def _add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/api/catalog/products", handlers.list_products)
    router.add_post("/api/catalog/products", handlers.create_product)
    router.add_get("/api/catalog/products/{id}", handlers.get_product)
    router.add_patch("/api/catalog/products/{id}", handlers.update_product)
    router.add_get("/api/catalog/promotions", promotion_handlers.list_promotions)
    router.add_post("/api/catalog/promotions", promotion_handlers.create_promotion)
    router.add_get("/api/catalog/promotions/{id}", promotion_handlers.get_promotion)
    router.add_patch("/api/catalog/promotions/{id}", promotion_handlers.update_promotion)
    router.add_delete("/api/catalog/products/{id}", handlers.archive_product)
    router.add_get("/api/catalog/categories", handlers.list_categories)
    router.add_post("/api/catalog/categories", handlers.create_category)
    router.add_post("/api/stats/hits", handlers.record_hit)
    router.add_get("/api/stats/report", handlers.hits_report)
    router.add_get("/api/stats/report/chart", handlers.hits_chart)
    router.add_get("/api/stats/export", handlers.hits_export)
    router.add_get("/internal/products", handlers.internal_products)
    router.add_get("/internal/promotions/{id}", promotion_handlers.internal_promotion)
