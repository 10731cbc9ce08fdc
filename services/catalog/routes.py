"""The catalog's route table: registered by ``app.py`` and described by ``shared.openapi``."""

from __future__ import annotations

from shared.openapi import Operation, Param

from . import handlers, promotion_handlers
from .promotion_handlers import PROMOTION_ROLES

MANAGER = ("catalog_manager",)
ANALYST = ("analyst",)
LANG = Param("lang", {"enum": ["ru", "kk"]}, description="else Accept-Language")
IDS = Param(
    "ids",
    {"type": "string", "description": "comma-separated product ids"},
    required=True,
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/api/catalog/products",
        handlers.list_products,
        "Products, searched and paged",
        query=handlers.ProductQuery,
        errors=(304,),
    ),
    Operation(
        "POST",
        "/api/catalog/products",
        handlers.create_product,
        "Add a product",
        body=handlers.ProductIn,
        auth="staff",
        roles=MANAGER,
        status=201,
        errors=(409,),
    ),
    Operation(
        "GET",
        "/api/catalog/products/{id}",
        handlers.get_product,
        "One product",
        params=(LANG,),
        errors=(304,),
    ),
    Operation(
        "PATCH",
        "/api/catalog/products/{id}",
        handlers.update_product,
        "Change a product",
        body=handlers.ProductPatch,
        auth="staff",
        roles=MANAGER,
        errors=(409,),
    ),
    Operation(
        "DELETE",
        "/api/catalog/products/{id}",
        handlers.archive_product,
        "Archive a product",
        auth="staff",
        roles=MANAGER,
    ),
    Operation(
        "GET",
        "/api/catalog/promotions",
        promotion_handlers.list_promotions,
        "Promotions, paged",
        query=promotion_handlers.PromotionQuery,
        auth="staff",
        roles=PROMOTION_ROLES,
    ),
    Operation(
        "POST",
        "/api/catalog/promotions",
        promotion_handlers.create_promotion,
        "Schedule a promotion",
        body=promotion_handlers.PromotionIn,
        auth="staff",
        roles=PROMOTION_ROLES,
        status=201,
    ),
    Operation(
        "GET",
        "/api/catalog/promotions/{id}",
        promotion_handlers.get_promotion,
        "One promotion",
        auth="staff",
        roles=PROMOTION_ROLES,
    ),
    Operation(
        "PATCH",
        "/api/catalog/promotions/{id}",
        promotion_handlers.update_promotion,
        "Change or end a promotion",
        body=promotion_handlers.PromotionPatch,
        auth="staff",
        roles=PROMOTION_ROLES,
        errors=(409,),
    ),
    Operation(
        "GET",
        "/api/catalog/categories",
        handlers.list_categories,
        "The categories",
        params=(LANG,),
        errors=(304,),
    ),
    Operation(
        "POST",
        "/api/catalog/categories",
        handlers.create_category,
        "Add a category",
        body=handlers.CategoryIn,
        auth="staff",
        roles=MANAGER,
        status=201,
        errors=(409,),
    ),
    Operation(
        "POST",
        "/api/stats/hits",
        handlers.record_hit,
        "Count a page view (nothing about the visitor is kept)",
        body=handlers.HitIn,
        status=204,
    ),
    Operation(
        "GET",
        "/api/stats/report",
        handlers.hits_report,
        "Visit statistics for a window",
        query=handlers.ReportQuery,
        auth="staff",
        roles=ANALYST,
    ),
    Operation(
        "GET",
        "/api/stats/report/chart",
        handlers.hits_chart,
        "The statistics as an SVG chart",
        query=handlers.ChartQuery,
        auth="staff",
        roles=ANALYST,
        content="image/svg+xml",
    ),
    Operation(
        "GET",
        "/api/stats/export",
        handlers.hits_export,
        "The statistics for third parties (small groups left out)",
        query=handlers.ReportQuery,
        auth="staff",
        roles=ANALYST,
    ),
    Operation(
        "GET",
        "/internal/products",
        handlers.internal_products,
        "Products by id for orders (unknown ids are absent)",
        params=(IDS,),
        auth="internal",
    ),
    Operation(
        "GET",
        "/internal/promotions/{id}",
        promotion_handlers.internal_promotion,
        "A promotion for notifications' campaign",
        auth="internal",
    ),
)
