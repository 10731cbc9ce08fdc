"""PostgreSQL access of the catalog: plain SQL, each function takes a connection."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.catalog.domain import (
    CategoryIn,
    Counter,
    DayTotal,
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

# The daily counters of each dimension from raw hits (``src``): each dimension counted on
# its own, so what is rolled up keeps no combination of them.
_COUNTERS_OF = """
SELECT day,
       CASE WHEN grouping(path) = 0 THEN 'page'
            WHEN grouping(product_id) = 0 THEN 'product'
            WHEN grouping(referrer_host) = 0 THEN 'referrer'
            WHEN grouping(city) = 0 THEN 'city'
            WHEN grouping(region) = 0 THEN 'region'
            WHEN grouping(browser) = 0 THEN 'browser'
            ELSE 'os' END AS dimension,
       CASE WHEN grouping(path) = 0 THEN path
            WHEN grouping(product_id) = 0 THEN product_id::text
            WHEN grouping(referrer_host) = 0 THEN referrer_host
            WHEN grouping(city) = 0 THEN city
            WHEN grouping(region) = 0 THEN region
            WHEN grouping(browser) = 0 THEN browser
            ELSE os END AS value,
       CASE WHEN grouping(city) = 0 THEN region ELSE '' END AS detail,
       count(*) AS hits
  FROM src
 GROUP BY GROUPING SETS ((day, path), (day, product_id), (day, referrer_host),
                         (day, city, region), (day, region), (day, browser), (day, os))
HAVING grouping(product_id) = 1 OR product_id IS NOT NULL
"""


@dataclass(frozen=True)
class Visit:
    """One page view as the beacon keeps it: nothing finer than a day, a city or a family."""

    day: date
    path: str
    product_id: UUID | None
    referrer_host: str
    city: str
    region: str
    browser: str
    os: str
    visitor: bytes | None


async def day_salt(conn: DbConn, day: date, fresh: bytes) -> bytes:
    """The day's salt of visitor hashes: ``fresh`` unless another beacon set one first."""
    await conn.execute(
        "INSERT INTO stats_salts (day, salt) VALUES ($1, $2) ON CONFLICT (day) DO NOTHING",
        day,
        fresh,
    )
    salt: bytes = await conn.fetchval("SELECT salt FROM stats_salts WHERE day = $1", day)
    return salt


async def record_visit(conn: DbConn, visit: Visit) -> None:
    """The raw hit and (when there is one) the day's visitor hash, in one statement."""
    await conn.execute(
        "WITH seen AS (INSERT INTO stats_visitors (day, visitor)"
        " SELECT $1, $9::bytea WHERE $9::bytea IS NOT NULL ON CONFLICT DO NOTHING)"
        " INSERT INTO stats_hits (day, path, product_id, referrer_host, city, region, browser,"
        " os) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        visit.day,
        visit.path,
        visit.product_id,
        visit.referrer_host,
        visit.city,
        visit.region,
        visit.browser,
        visit.os,
        visit.visitor,
    )


async def day_totals(conn: DbConn, start: date, end: date) -> list[DayTotal]:
    """Hits and visitors per day: rolled-up days from their totals, open ones counted live."""
    rows = await conn.fetch(
        "SELECT day, hits, visitors FROM stats_days WHERE day BETWEEN $1 AND $2"
        " UNION ALL"
        " SELECT h.day, count(*), (SELECT count(*) FROM stats_visitors v WHERE v.day = h.day)"
        " FROM stats_hits h WHERE h.day BETWEEN $1 AND $2"
        " AND NOT EXISTS (SELECT 1 FROM stats_days d WHERE d.day = h.day) GROUP BY h.day"
        " ORDER BY day",
        start,
        end,
    )
    return [DayTotal(r["day"], r["hits"], r["visitors"]) for r in rows]


async def counters(conn: DbConn, start: date, end: date) -> list[Counter]:
    """Every dimension's counters per day, rolled-up days and open ones alike."""
    rows = await conn.fetch(
        "WITH src AS (SELECT * FROM stats_hits h WHERE h.day BETWEEN $1 AND $2"  # noqa: S608
        " AND NOT EXISTS (SELECT 1 FROM stats_days d WHERE d.day = h.day))"
        " SELECT day, dimension, value, detail, hits FROM stats_daily"
        " WHERE day BETWEEN $1 AND $2"
        f" UNION ALL ({_COUNTERS_OF})"
        " ORDER BY day, dimension, hits DESC, value, detail",
        start,
        end,
    )
    return [Counter(r["day"], r["dimension"], r["value"], r["detail"], r["hits"]) for r in rows]


async def product_names(conn: DbConn, ids: list[str]) -> dict[str, str]:
    rows = await conn.fetch(
        "SELECT id::text, name FROM products WHERE id::text = ANY($1::text[])", ids
    )
    return {r["id"]: r["name"] for r in rows}


async def open_days_before(conn: DbConn, day: date) -> list[date]:
    """The days before ``day`` not rolled up yet (each day of beacons has a salt)."""
    rows = await conn.fetch("SELECT day FROM stats_salts WHERE day < $1 ORDER BY day", day)
    return [r["day"] for r in rows]


async def roll_up_day(conn: DbConn, day: date) -> int:
    """Count the day into ``stats_days`` and ``stats_daily`` once, then destroy its visitor
    hashes and salt (and any older one left); returns how many hashes went."""
    claimed = await conn.fetchval(
        "INSERT INTO stats_days (day, hits, visitors)"
        " SELECT $1, (SELECT count(*) FROM stats_hits WHERE day = $1),"
        " (SELECT count(*) FROM stats_visitors WHERE day = $1)"
        " ON CONFLICT (day) DO NOTHING RETURNING true",
        day,
    )
    if claimed:
        await conn.execute(
            "WITH src AS (SELECT * FROM stats_hits WHERE day = $1)"  # noqa: S608 (fixed SQL)
            " INSERT INTO stats_daily (day, dimension, value, detail, hits)"
            f" {_COUNTERS_OF}",
            day,
        )
    gone = await conn.fetchval(
        "WITH gone AS (DELETE FROM stats_visitors WHERE day <= $1 RETURNING 1)"
        " SELECT count(*) FROM gone",
        day,
    )
    await conn.execute("DELETE FROM stats_salts WHERE day <= $1", day)
    return int(gone)
