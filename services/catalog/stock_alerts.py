"""Low-stock alerts for the catalog managers: ``catalog.stock.low`` once when a product's free
stock falls below its threshold, and again only after it was refilled to the threshold.

Called in the transaction that moved the stock (a manager's edit, a reservation, a release),
so the flag and the event commit with the move.
"""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

from services.catalog import storage
from shared.contracts import StockLow
from shared.db import DbConn
from shared.messaging import enqueue


async def check_stock(conn: DbConn, product_ids: list[UUID]) -> int:
    """Flip the products' low-stock flags where the stock crossed the threshold; enqueue one
    StockLow per product that fell below. Returns how many were enqueued."""
    flipped = await storage.flip_low_stock(conn, product_ids)
    at = datetime.now(UTC)
    fallen = [row for row in flipped if row["alerted"]]
    for row in fallen:
        await enqueue(
            conn,
            StockLow(
                product_id=row["id"],
                sku=row["sku"],
                stock=row["stock"],
                threshold=row["low_stock_threshold"],
                at=at,
            ),
        )
    return len(fallen)
