"""A customer's orders, the use case: a page of them, one, the cancel, the export.

Each takes the customer's id from a verified token; another customer's order is
``OrderNotFound``, the same as none. The cancel runs in the caller's transaction.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.db import DbConn
from shared.http import Problem

from . import storage
from .config import Settings
from .documents import (
    cart_line,
    decision_item,
    dispatch_document,
    order_documents,
    order_summary,
)
from .domain import CatalogProduct, Cursor, IllegalTransition, Status, Trigger, encode_cursor
from .workflow import OrderNotFound, apply_trigger


class TooLateToCancel(Exception):
    """The order is with the courier or finished."""


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    next_cursor: str | None


async def page_of_orders(conn: DbConn, customer_id: UUID, limit: int, after: Cursor | None) -> Page:
    """The customer's orders, newest first, after the cursor."""
    rows = await storage.customer_orders(conn, customer_id, limit + 1, after)
    page, more = rows[:limit], len(rows) > limit
    next_cursor = encode_cursor(Cursor(page[-1]["created_at"], page[-1]["id"])) if more else None
    return Page([order_summary(row) for row in page], next_cursor)


async def one_order(
    conn: DbConn, customer_id: UUID, order_id: UUID, bank_public_url: str
) -> dict[str, Any]:
    row = await storage.customer_order(conn, customer_id, order_id)
    if row is None:
        raise OrderNotFound(str(order_id))
    documents = await order_documents(conn, [row], bank_public_url)
    return documents[0]


async def cancel_order(conn: DbConn, customer_id: UUID, order_id: UUID, settings: Settings) -> str:
    """Placed, awaiting payment or paid: cancelled (a requested dispatch is cancelled with
    the courier, a paid card order refunded); cancelling a cancelled order changes nothing.
    Dispatched or finished: ``TooLateToCancel``. Returns the order's reference."""
    row = await storage.customer_order(conn, customer_id, order_id)
    if row is None:
        raise OrderNotFound(str(order_id))
    if row["status"] == Status.CANCELLED.value:
        return str(row["order_ref"])
    try:
        await apply_trigger(conn, order_id, Trigger.CUSTOMER_CANCELLED, settings)
    except IllegalTransition as exc:
        if exc.status is not Status.CANCELLED:  # else a concurrent cancel came first
            raise TooLateToCancel() from None
    return str(row["order_ref"])


async def export(conn: DbConn, customer_id: UUID, bank_public_url: str) -> dict[str, Any]:
    """Everything orders holds about a customer, the sections of its data map
    (``services/orders/data_map.py``): their orders with lines, payment, status history and
    dispatch, their cart, and the automated decisions about them (velocity refusals). Seven
    queries however many orders there are (no query per order)."""
    rows = await storage.all_customer_orders(conn, customer_id)
    documents = await order_documents(conn, rows, bank_public_url)
    dispatches = await storage.order_dispatches(conn, [row["id"] for row in rows])
    for row, document in zip(rows, documents, strict=True):
        document["dispatch"] = dispatch_document(dispatches.get(row["id"]))
    cart = await storage.customer_cart_lines(conn, customer_id)
    decisions = await storage.customer_decisions(conn, customer_id)
    return {
        "orders": documents,
        "cart": [cart_line(line) for line in cart],
        "decisions": [decision_item(row) for row in decisions],
    }


ProductLookup = Callable[[Collection[UUID]], Awaitable[Mapping[UUID, CatalogProduct]]]


async def name_cart_lines(document: dict[str, Any], lookup: ProductLookup) -> None:
    """Add the catalog's product names to the exported cart's lines, when the catalog answers
    (a cart holds product ids only; without the catalog the ids and quantities still say it)."""
    lines = document["cart"]
    try:
        found = await lookup({UUID(line["product_id"]) for line in lines})
    except Problem:
        return
    for line in lines:
        product = found.get(UUID(line["product_id"]))
        if product is not None:
            line["name"] = product.name
