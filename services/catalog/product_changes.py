"""A catalog manager's changes to products: each one commits with its event in the outbox
(``catalog.product.created|changed|archived``: ids and facts about the product only) and,
where the stock moved, the low-stock check."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.catalog import storage
from services.catalog.domain import ProductIn, ProductPatch
from services.catalog.stock_alerts import check_stock
from shared.contracts import Money, ProductArchived, ProductChanged, ProductCreated
from shared.db import DbConn
from shared.messaging import enqueue


async def create_product(conn: DbConn, product: ProductIn, default_threshold: int) -> UUID:
    """Raises ``storage.UnknownCategory`` or ``storage.DuplicateKey``."""
    threshold = (
        product.low_stock_threshold
        if product.low_stock_threshold is not None
        else default_threshold
    )
    async with conn.transaction():
        product_id = await storage.create_product(conn, product, threshold)
        created = ProductCreated(
            product_id=product_id,
            sku=product.sku,
            category=product.category,
            price=Money(amount=product.price.amount),
            version=1,
            at=datetime.now(UTC),
        )
        await enqueue(conn, created)
        await check_stock(conn, [product_id])
    return product_id


async def update_product(conn: DbConn, product_id: UUID, patch: ProductPatch) -> bool:
    """False if there is no such product; raises ``storage.UnknownCategory``."""
    async with conn.transaction():
        version = await storage.update_product(conn, product_id, patch.changes())
        if version is None:
            return False
        changed = ProductChanged(
            product_id=product_id,
            fields=tuple(sorted(patch.model_fields_set)),
            version=version,
            at=datetime.now(UTC),
        )
        await enqueue(conn, changed)
        if patch.model_fields_set & {"stock", "low_stock_threshold"}:
            await check_stock(conn, [product_id])
    return True


async def archive_product(conn: DbConn, product_id: UUID) -> bool:
    """Archive once (archiving again changes nothing and sends nothing); False if there is
    no such product."""
    async with conn.transaction():
        outcome = await storage.archive_product(conn, product_id)
        if outcome is None:
            return False
        archived_now, version = outcome
        if archived_now:
            archived = ProductArchived(product_id=product_id, version=version, at=datetime.now(UTC))
            await enqueue(conn, archived)
    return True
