"""PostgreSQL access of the catalog: plain SQL, each function takes a connection."""

from __future__ import annotations

from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.catalog.domain import (
    CategoryIn,
    ProductIn,
    StockRow,
    like_pattern,
)
from shared.db import DbConn

_PRODUCT_COLUMNS = (
    "p.id, p.sku, p.name, p.description, c.slug AS category, p.price, p.weight_g, p.stock"
)
_PRODUCT_FROM = "products p JOIN categories c ON c.id = p.category_id"


class UnknownCategory(LookupError):
    pass


class DuplicateKey(Exception):
    pass


# --- categories ------------------------------------------------------------------------


async def list_categories(conn: DbConn) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT c.id, c.slug, c.name, count(p.id) AS product_count"
        " FROM categories c LEFT JOIN products p ON p.category_id = c.id"
        " GROUP BY c.id ORDER BY c.name, c.id"
    )


async def create_category(conn: DbConn, category: CategoryIn) -> asyncpg.Record:
    row = await conn.fetchrow(
        "INSERT INTO categories (id, slug, name) VALUES ($1, $2, $3)"
        " ON CONFLICT (slug) DO NOTHING RETURNING id, slug, name",
        uuid4(),
        category.slug,
        category.name,
    )
    if row is None:
        raise DuplicateKey("slug")
    return row


async def category_id(conn: DbConn, slug: str) -> UUID:
    found: UUID | None = await conn.fetchval("SELECT id FROM categories WHERE slug = $1", slug)
    if found is None:
        raise UnknownCategory(slug)
    return found


# --- products --------------------------------------------------------------------------


async def list_products(
    conn: DbConn, *, q: str, category: str | None, after: tuple[str, UUID] | None, limit: int
) -> list[asyncpg.Record]:
    """Products by (name, id), after the cursor position; ``limit`` rows at most."""
    conditions = ["true"]
    args: list[Any] = []
    if q:
        args.append(like_pattern(q))
        conditions.append(f"(p.name ILIKE ${len(args)} OR p.sku ILIKE ${len(args)})")
    if category:
        args.append(category)
        conditions.append(f"c.slug = ${len(args)}")
    if after:
        args.extend(after)
        conditions.append(f"(p.name, p.id) > (${len(args) - 1}, ${len(args)})")
    args.append(limit)
    return await conn.fetch(
        f"SELECT {_PRODUCT_COLUMNS} FROM {_PRODUCT_FROM}"  # noqa: S608 (fixed fragments only)
        f" WHERE {' AND '.join(conditions)} ORDER BY p.name, p.id LIMIT ${len(args)}",
        *args,
    )


async def get_product(conn: DbConn, product_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {_PRODUCT_COLUMNS} FROM {_PRODUCT_FROM} WHERE p.id = $1",  # noqa: S608
        product_id,
    )


async def get_internal_products(conn: DbConn, ids: list[UUID]) -> list[asyncpg.Record]:
    """The columns of ``internal_product_view`` only: no category join, no description."""
    return await conn.fetch(
        "SELECT id, sku, name, price, weight_g, stock FROM products"
        " WHERE id = ANY($1::uuid[]) ORDER BY id",
        ids,
    )


async def create_product(conn: DbConn, product: ProductIn) -> UUID:
    """Insert a product; raises ``UnknownCategory`` or ``DuplicateKey`` (sku)."""
    new_id = uuid4()
    inserted = await conn.fetchval(
        "INSERT INTO products (id, sku, name, description, category_id, price, weight_g, stock)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (sku) DO NOTHING RETURNING id",
        new_id,
        product.sku,
        product.name,
        product.description,
        await category_id(conn, product.category),
        product.price.amount,
        product.weight_g,
        product.stock,
    )
    if inserted is None:
        raise DuplicateKey("sku")
    return new_id


_PATCHABLE = ("name", "description", "price", "weight_g", "stock")


async def update_product(conn: DbConn, product_id: UUID, changes: dict[str, Any]) -> bool:
    """Apply ``changes`` (column -> value; ``category`` is a slug); False if no such product."""
    values = {key: changes[key] for key in _PATCHABLE if key in changes}
    if "category" in changes:
        values["category_id"] = await category_id(conn, changes["category"])
    sets = [f"{column} = ${i}" for i, column in enumerate(values, start=2)]
    found = await conn.fetchval(
        f"UPDATE products SET {', '.join(sets)}, updated_at = now()"  # noqa: S608 (known columns)
        " WHERE id = $1 RETURNING true",
        product_id,
        *values.values(),
    )
    return bool(found)


# --- reservations ----------------------------------------------------------------------


async def claim_order(conn: DbConn, order_id: UUID, status: str) -> bool:
    """Create the order's reservation row; False if the order was seen before."""
    created = await conn.fetchval(
        "INSERT INTO reservations (order_id, status) VALUES ($1, $2)"
        " ON CONFLICT (order_id) DO NOTHING RETURNING true",
        order_id,
        status,
    )
    return bool(created)


async def lock_stock(conn: DbConn, product_ids: list[UUID]) -> dict[UUID, StockRow]:
    """Lock the products' rows in id order (a fixed order: no deadlocks) and read them."""
    rows = await conn.fetch(
        "SELECT id, stock, weight_g FROM products WHERE id = ANY($1::uuid[])"
        " ORDER BY id FOR UPDATE",
        product_ids,
    )
    return {r["id"]: StockRow(r["id"], r["stock"], r["weight_g"]) for r in rows}


async def take_stock(conn: DbConn, order_id: UUID, wanted: dict[UUID, int]) -> None:
    """Move ``wanted`` units from stock into the order's reservation (rows already locked)."""
    ids, quantities = list(wanted), list(wanted.values())
    await conn.execute(
        "UPDATE products p SET stock = p.stock - w.quantity, updated_at = now()"
        " FROM unnest($1::uuid[], $2::int[]) AS w (product_id, quantity)"
        " WHERE p.id = w.product_id",
        ids,
        quantities,
    )
    await conn.execute(
        "INSERT INTO reservation_lines (order_id, product_id, quantity)"
        " SELECT $1, * FROM unnest($2::uuid[], $3::int[])",
        order_id,
        ids,
        quantities,
    )


async def set_status(conn: DbConn, order_id: UUID, status: str) -> None:
    await conn.execute(
        "UPDATE reservations SET status = $2, updated_at = now() WHERE order_id = $1",
        order_id,
        status,
    )


async def lock_reservation(conn: DbConn, order_id: UUID) -> str | None:
    """The order's reservation status, its row locked for this transaction; None if absent."""
    status: str | None = await conn.fetchval(
        "SELECT status FROM reservations WHERE order_id = $1 FOR UPDATE", order_id
    )
    return status


async def return_stock(conn: DbConn, order_id: UUID) -> None:
    """Give the order's reserved units back to stock (caller holds the reservation lock)."""
    lines = await conn.fetch(
        "SELECT product_id, quantity FROM reservation_lines WHERE order_id = $1", order_id
    )
    await lock_stock(conn, [line["product_id"] for line in lines])
    await conn.execute(
        "UPDATE products p SET stock = p.stock + l.quantity, updated_at = now()"
        " FROM reservation_lines l WHERE l.order_id = $1 AND p.id = l.product_id",
        order_id,
    )


# --- statistics ------------------------------------------------------------------------


async def count_hit(
    conn: DbConn, *, day: date, path: str, referrer_host: str, city: str, region: str
) -> None:
    await conn.execute(
        "INSERT INTO page_hits (day, path, referrer_host, city, region, hits)"
        " VALUES ($1, $2, $3, $4, $5, 1)"
        " ON CONFLICT (day, path, referrer_host, city, region)"
        " DO UPDATE SET hits = page_hits.hits + 1",
        day,
        path,
        referrer_host,
        city,
        region,
    )


async def hits_report(conn: DbConn, start: date, end: date) -> list[asyncpg.Record]:
    return await conn.fetch(
        "SELECT day, path, sum(hits)::bigint AS hits FROM page_hits"
        " WHERE day BETWEEN $1 AND $2 GROUP BY day, path ORDER BY day, path",
        start,
        end,
    )
