"""PostgreSQL access of the catalog: plain SQL, each function takes a connection."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from services.catalog.domain import CategoryIn, Counter, DayTotal, ProductIn, StockRow
from shared.db import DbConn

PRODUCT_COLUMNS = (
    "p.id, p.sku, p.name, p.description, c.slug AS category, p.price, p.weight_g, p.stock,"
    " p.name_kk, p.description_kk, p.image_urls, p.form, p.dosage, p.pack_size,"
    " p.prescription_only, p.archived_at, p.version, p.created_at"
)
PRODUCT_FROM = "products p JOIN categories c ON c.id = p.category_id"


class UnknownCategory(LookupError):
    pass


class DuplicateKey(Exception):
    pass


# --- categories ------------------------------------------------------------------------


async def list_categories(conn: DbConn) -> list[asyncpg.Record]:
    """Every category with its parent's slug and its own products on sale."""
    return await conn.fetch(
        "SELECT c.id, c.slug, c.name, c.name_kk, parent.slug AS parent,"
        " (SELECT count(*) FROM products p"
        "   WHERE p.category_id = c.id AND p.archived_at IS NULL) AS product_count"
        " FROM categories c LEFT JOIN categories parent ON parent.id = c.parent_id"
        " ORDER BY c.name, c.id"
    )


async def create_category(conn: DbConn, category: CategoryIn) -> asyncpg.Record:
    """Insert a category; raises ``UnknownCategory`` (the parent) or ``DuplicateKey``."""
    parent_id = await category_id(conn, category.parent) if category.parent else None
    row = await conn.fetchrow(
        "INSERT INTO categories (id, slug, name, name_kk, parent_id) VALUES ($1, $2, $3, $4, $5)"
        " ON CONFLICT (slug) DO NOTHING RETURNING id, slug, name, name_kk",
        uuid4(),
        category.slug,
        category.name,
        category.name_kk,
        parent_id,
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


async def get_product(conn: DbConn, product_id: UUID) -> asyncpg.Record | None:
    return await conn.fetchrow(
        f"SELECT {PRODUCT_COLUMNS} FROM {PRODUCT_FROM} WHERE p.id = $1",  # noqa: S608
        product_id,
    )


async def get_internal_products(conn: DbConn, ids: list[UUID]) -> list[asyncpg.Record]:
    """The columns of ``internal_product_view`` only: no category join, no description.
    Archived products are absent, as unknown ones: they cannot be put in a cart or bought."""
    return await conn.fetch(
        "SELECT id, sku, name, price, weight_g, stock FROM products"
        " WHERE id = ANY($1::uuid[]) AND archived_at IS NULL ORDER BY id",
        ids,
    )


async def create_product(conn: DbConn, product: ProductIn, low_stock_threshold: int) -> UUID:
    """Insert a product; raises ``UnknownCategory`` or ``DuplicateKey`` (sku)."""
    new_id = uuid4()
    attributes = product.attributes
    inserted = await conn.fetchval(
        "INSERT INTO products (id, sku, name, description, category_id, price, weight_g, stock,"
        " name_kk, description_kk, image_urls, form, dosage, pack_size, prescription_only,"
        " low_stock_threshold)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)"
        " ON CONFLICT (sku) DO NOTHING RETURNING id",
        new_id,
        product.sku,
        product.name,
        product.description,
        await category_id(conn, product.category),
        product.price.amount,
        product.weight_g,
        product.stock,
        product.name_kk,
        product.description_kk,
        product.images,
        attributes.form,
        attributes.dosage,
        attributes.pack_size,
        attributes.prescription_only,
        low_stock_threshold,
    )
    if inserted is None:
        raise DuplicateKey("sku")
    return new_id


_PATCHABLE = (
    "name",
    "name_kk",
    "description",
    "description_kk",
    "price",
    "weight_g",
    "stock",
    "image_urls",
    "form",
    "dosage",
    "pack_size",
    "prescription_only",
    "low_stock_threshold",
)


async def update_product(conn: DbConn, product_id: UUID, changes: dict[str, Any]) -> int | None:
    """Apply ``changes`` (column -> value; ``category`` is a slug); the new row version, or
    None if there is no such product."""
    values = {key: changes[key] for key in _PATCHABLE if key in changes}
    if "category" in changes:
        values["category_id"] = await category_id(conn, changes["category"])
    # A patch may change no column (``{"attributes": {}}``): the SET list still has these.
    sets = [f"{column} = ${i}" for i, column in enumerate(values, start=2)]
    sets += ["version = version + 1", "updated_at = now()"]
    version: int | None = await conn.fetchval(
        f"UPDATE products SET {', '.join(sets)}"  # noqa: S608
        " WHERE id = $1 RETURNING version",
        product_id,
        *values.values(),
    )
    return version


async def archive_product(conn: DbConn, product_id: UUID) -> tuple[bool, int] | None:
    """Archive the product (inside the caller's transaction): (archived by this call, row
    version), or None if there is no such product."""
    row = await conn.fetchrow(
        "UPDATE products SET archived_at = coalesce(archived_at, now()),"
        " version = version + (archived_at IS NULL)::int,"
        " updated_at = CASE WHEN archived_at IS NULL THEN now() ELSE updated_at END"
        " WHERE id = $1"
        " RETURNING version, archived_at = now() AS archived_now",
        product_id,
    )
    return None if row is None else (row["archived_now"], row["version"])


async def flip_low_stock(conn: DbConn, product_ids: list[UUID]) -> list[asyncpg.Record]:
    """Set each product's low-stock flag to (stock < threshold) where it differs; the rows
    flipped, with the new flag (``alerted``)."""
    return await conn.fetch(
        "UPDATE products SET low_stock_alerted = stock < low_stock_threshold"
        " WHERE id = ANY($1::uuid[]) AND low_stock_alerted <> (stock < low_stock_threshold)"
        " RETURNING id, sku, stock, low_stock_threshold, low_stock_alerted AS alerted",
        product_ids,
    )


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


async def lock_stock(
    conn: DbConn, product_ids: list[UUID], *, archived_too: bool = False
) -> dict[UUID, StockRow]:
    """Lock the products' rows in id order (a fixed order: no deadlocks) and read them;
    archived products are left out (not for sale) unless ``archived_too``."""
    rows = await conn.fetch(
        "SELECT id, stock, weight_g, archived_at IS NULL AS live FROM products"
        " WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE",
        product_ids,
    )
    rows = [r for r in rows if archived_too or r["live"]]
    return {r["id"]: StockRow(r["id"], r["stock"], r["weight_g"]) for r in rows}


async def take_stock(conn: DbConn, order_id: UUID, wanted: dict[UUID, int]) -> None:
    """Move ``wanted`` units from stock into the order's reservation (rows already locked)."""
    ids, quantities = list(wanted), list(wanted.values())
    await conn.execute(
        "UPDATE products p SET stock = p.stock - w.quantity, version = p.version + 1,"
        " updated_at = now()"
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


async def return_stock(conn: DbConn, order_id: UUID) -> list[UUID]:
    """Give the order's reserved units back to stock (caller holds the reservation lock);
    the products refilled."""
    lines = await conn.fetch(
        "SELECT product_id, quantity FROM reservation_lines WHERE order_id = $1", order_id
    )
    await lock_stock(conn, [line["product_id"] for line in lines], archived_too=True)
    await conn.execute(
        "UPDATE products p SET stock = p.stock + l.quantity, version = p.version + 1,"
        " updated_at = now()"
        " FROM reservation_lines l WHERE l.order_id = $1 AND p.id = l.product_id",
        order_id,
    )
    return [line["product_id"] for line in lines]


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


async def record_visits(conn: DbConn, visits: Sequence[Visit]) -> None:
    """The raw hits and (where there is one) each day's visitor hash, in one statement."""
    await conn.execute(
        "WITH batch AS (SELECT * FROM unnest($1::date[], $2::text[], $3::uuid[], $4::text[],"
        " $5::text[], $6::text[], $7::text[], $8::text[], $9::bytea[])"
        " AS b (day, path, product_id, referrer_host, city, region, browser, os, visitor)),"
        " seen AS (INSERT INTO stats_visitors (day, visitor) SELECT day, visitor FROM batch"
        " WHERE visitor IS NOT NULL ON CONFLICT DO NOTHING)"
        " INSERT INTO stats_hits (day, path, product_id, referrer_host, city, region, browser,"
        " os) SELECT day, path, product_id, referrer_host, city, region, browser, os FROM batch",
        [v.day for v in visits],
        [v.path for v in visits],
        [v.product_id for v in visits],
        [v.referrer_host for v in visits],
        [v.city for v in visits],
        [v.region for v in visits],
        [v.browser for v in visits],
        [v.os for v in visits],
        [v.visitor for v in visits],
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
