"""PostgreSQL access of promotions: plain SQL, each function takes a connection."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from services.catalog.promotions import (
    MAX_INTERNAL_PRODUCTS,
    Discount,
    Offer,
    Promotion,
    PublicStatus,
)
from services.catalog.storage import PRODUCT_COLUMNS, PRODUCT_FROM
from shared.db import DbConn

_COLUMNS = (
    "pr.id, pr.name, pr.percent_off, pr.amount_off, c.slug AS category, pr.starts_at,"
    " pr.ends_at, pr.status, pr.stopped_at, pr.created_at, pr.updated_at,"
    " ARRAY(SELECT pp.product_id FROM promotion_products pp WHERE pp.promotion_id = pr.id"
    " ORDER BY pp.product_id) AS product_ids"
)
_FROM = "promotions pr LEFT JOIN categories c ON c.id = pr.category_id"


def live(at: str) -> str:
    """The promotion ``pr`` is live at ``at`` (an SQL timestamptz)."""
    return f"pr.status = 'active' AND pr.starts_at <= {at} AND {at} < pr.ends_at"


LIVE = live("$1")
_STATUS_WHERE: dict[PublicStatus, str] = {
    "scheduled": "pr.status = 'active' AND $1 < pr.starts_at",
    "live": LIVE,
    "ended": "(pr.status = 'ended_early' OR (pr.status = 'active' AND pr.ends_at <= $1))",
    # $1 is sent with every filter: one it does not name must still give it a type.
    "cancelled": "pr.status = 'cancelled' AND $1::timestamptz IS NOT NULL",
}


_LIVE_OFFERS = (
    "SELECT pp.product_id, pr.id, pr.name, pr.percent_off, pr.amount_off, pr.ends_at"  # noqa: S608
    " FROM promotion_products pp JOIN promotions pr ON pr.id = pp.promotion_id"
    f" WHERE pp.product_id = ANY($2::uuid[]) AND {LIVE}"
    " UNION ALL"
    " SELECT p.id, pr.id, pr.name, pr.percent_off, pr.amount_off, pr.ends_at"
    " FROM products p JOIN promotions pr ON pr.category_id = p.category_id"
    f" WHERE p.id = ANY($2::uuid[]) AND {LIVE}"
)
# The live offers of product ``p`` now, as arrays (NULL when there are none): a fragment for
# the FROM of a product read, so that the product and its offers come in one statement.
# The winner is chosen in Python (promotions.best_price), the price rule's only place.
OFFERS_JOIN = (
    "LEFT JOIN LATERAL (SELECT array_agg(o.id) AS offer_ids, array_agg(o.name) AS offer_names,"  # noqa: S608
    " array_agg(o.percent_off) AS offer_percents, array_agg(o.amount_off) AS offer_amounts,"
    " array_agg(o.ends_at) AS offer_ends FROM ("
    " SELECT pr.id, pr.name, pr.percent_off, pr.amount_off, pr.ends_at"
    " FROM promotion_products pp JOIN promotions pr ON pr.id = pp.promotion_id"
    f" WHERE pp.product_id = p.id AND {live('now()')}"
    " UNION ALL"
    " SELECT pr.id, pr.name, pr.percent_off, pr.amount_off, pr.ends_at FROM promotions pr"
    f" WHERE pr.category_id = p.category_id AND {live('now()')}) o) o ON true"
)
OFFER_COLUMNS = "o.offer_ids, o.offer_names, o.offer_percents, o.offer_amounts, o.offer_ends"


def offers_of(row: asyncpg.Record) -> list[Offer]:
    """The offers of a row read with ``OFFERS_JOIN`` and ``OFFER_COLUMNS``."""
    if row["offer_ids"] is None:
        return []
    return [
        Offer(promotion_id, name, Discount(percent, amount), ends_at)
        for promotion_id, name, percent, amount, ends_at in zip(
            row["offer_ids"],
            row["offer_names"],
            row["offer_percents"],
            row["offer_amounts"],
            row["offer_ends"],
            strict=True,
        )
    ]


class UnknownProducts(LookupError):
    """Some product ids are not in the catalogue."""


class UnknownCategory(LookupError):
    pass


def _promotion(row: asyncpg.Record) -> Promotion:
    return Promotion(
        id=row["id"],
        name=row["name"],
        discount=Discount(row["percent_off"], row["amount_off"]),
        product_ids=tuple(row["product_ids"]),
        category=row["category"],
        starts_at=row["starts_at"],
        ends_at=row["ends_at"],
        status=row["status"],
        stopped_at=row["stopped_at"],
        created_at=row["created_at"],
        updated_at=row["updated_at"],
    )


async def get(conn: DbConn, promotion_id: UUID, *, lock: bool = False) -> Promotion | None:
    row = await conn.fetchrow(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE pr.id = $1"  # noqa: S608 (fixed fragments)
        + (" FOR UPDATE OF pr" if lock else ""),
        promotion_id,
    )
    return _promotion(row) if row else None


async def page(
    conn: DbConn,
    now: datetime,
    *,
    status: PublicStatus | None,
    after: tuple[datetime, UUID] | None,
    limit: int,
) -> list[Promotion]:
    """Newest first, after the cursor position (created_at, id)."""
    conditions = [_STATUS_WHERE[status] if status else "$1::timestamptz IS NOT NULL"]
    args: list[object] = [now]
    if after:
        args.extend(after)
        conditions.append("(pr.created_at, pr.id) < ($2, $3)")
    args.append(limit)
    rows = await conn.fetch(
        f"SELECT {_COLUMNS} FROM {_FROM} WHERE {' AND '.join(conditions)}"  # noqa: S608
        f" ORDER BY pr.created_at DESC, pr.id DESC LIMIT ${len(args)}",
        *args,
    )
    return [_promotion(row) for row in rows]


async def _category_id(conn: DbConn, slug: str | None) -> UUID | None:
    if slug is None:
        return None
    found: UUID | None = await conn.fetchval("SELECT id FROM categories WHERE slug = $1", slug)
    if found is None:
        raise UnknownCategory(slug)
    return found


async def _set_products(conn: DbConn, promotion_id: UUID, product_ids: tuple[UUID, ...]) -> None:
    await conn.execute("DELETE FROM promotion_products WHERE promotion_id = $1", promotion_id)
    inserted = await conn.fetchval(
        "WITH added AS (INSERT INTO promotion_products (promotion_id, product_id)"
        " SELECT $1, id FROM products WHERE id = ANY($2::uuid[]) RETURNING 1)"
        " SELECT count(*) FROM added",
        promotion_id,
        list(product_ids),
    )
    if inserted != len(product_ids):
        raise UnknownProducts()


async def insert(conn: DbConn, promotion: Promotion, created_by: UUID) -> None:
    """Raises ``UnknownCategory`` or ``UnknownProducts``."""
    await conn.execute(
        "INSERT INTO promotions (id, name, percent_off, amount_off, category_id, starts_at,"
        " ends_at, created_by) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        promotion.id,
        promotion.name,
        promotion.discount.percent,
        promotion.discount.amount,
        await _category_id(conn, promotion.category),
        promotion.starts_at,
        promotion.ends_at,
        created_by,
    )
    await _set_products(conn, promotion.id, promotion.product_ids)


async def update(conn: DbConn, promotion: Promotion, *, scope_changed: bool) -> None:
    """Write the promotion's editable columns (the row is locked by ``get(lock=True)``)."""
    await conn.execute(
        "UPDATE promotions SET name = $2, percent_off = $3, amount_off = $4, category_id = $5,"
        " starts_at = $6, ends_at = $7, status = $8, stopped_at = $9, updated_at = now()"
        " WHERE id = $1",
        promotion.id,
        promotion.name,
        promotion.discount.percent,
        promotion.discount.amount,
        await _category_id(conn, promotion.category),
        promotion.starts_at,
        promotion.ends_at,
        promotion.status,
        promotion.stopped_at,
    )
    if scope_changed:
        await _set_products(conn, promotion.id, promotion.product_ids)


async def live_offers(
    conn: DbConn, product_ids: list[UUID], now: datetime
) -> dict[UUID, list[Offer]]:
    """The live promotions covering each product, by its id or its category."""
    rows = await conn.fetch(_LIVE_OFFERS, now, product_ids)
    offers: dict[UUID, list[Offer]] = {}
    for row in rows:
        offer = Offer(
            row["id"], row["name"], Discount(row["percent_off"], row["amount_off"]), row["ends_at"]
        )
        offers.setdefault(row["product_id"], []).append(offer)
    return offers


async def product_with_offers(
    conn: DbConn, product_id: UUID
) -> tuple[asyncpg.Record | None, list[Offer]]:
    """The product (archived too) and the live promotions covering it, in one statement."""
    row = await conn.fetchrow(
        f"SELECT {PRODUCT_COLUMNS}, {OFFER_COLUMNS} FROM {PRODUCT_FROM} {OFFERS_JOIN}"  # noqa: S608
        " WHERE p.id = $1",
        product_id,
    )
    return (row, offers_of(row)) if row else (None, [])


async def covered_products(conn: DbConn, promotion: Promotion) -> list[tuple[UUID, str, int]]:
    """Up to ``MAX_INTERNAL_PRODUCTS`` (id, name, regular price) the promotion covers, by
    name."""
    if promotion.category is not None:
        where = "p.category_id = (SELECT id FROM categories WHERE slug = $1)"
        scope: object = promotion.category
    else:
        where = "p.id = ANY($1::uuid[])"
        scope = list(promotion.product_ids)
    rows = await conn.fetch(
        f"SELECT p.id, p.name, p.price FROM products p WHERE {where}"  # noqa: S608 (fixed)
        " ORDER BY p.name, p.id LIMIT $2",
        scope,
        MAX_INTERNAL_PRODUCTS,
    )
    return [(row["id"], row["name"], row["price"]) for row in rows]


# --- announcements ---------------------------------------------------------------------


async def lock_to_start(conn: DbConn, now: datetime, limit: int) -> list[UUID]:
    """Promotions that went live (and were not cancelled first) with no start announced yet,
    locked; rows another transaction holds are skipped."""
    rows = await conn.fetch(
        "SELECT id FROM promotions WHERE NOT started_announced AND status <> 'cancelled'"
        " AND starts_at <= $1 ORDER BY starts_at, id LIMIT $2 FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [row["id"] for row in rows]


async def lock_to_end(conn: DbConn, now: datetime, limit: int) -> list[UUID]:
    """Announced promotions that are over (ended early, or their end passed), locked."""
    rows = await conn.fetch(
        "SELECT id FROM promotions WHERE started_announced AND NOT ended_announced"
        " AND (status <> 'active' OR ends_at <= $1) ORDER BY ends_at, id LIMIT $2"
        " FOR UPDATE SKIP LOCKED",
        now,
        limit,
    )
    return [row["id"] for row in rows]


async def announced(conn: DbConn, promotion_id: UUID) -> tuple[bool, bool]:
    """(started announced, ended announced) of a promotion whose row the caller locked."""
    row = await conn.fetchrow(
        "SELECT started_announced, ended_announced FROM promotions WHERE id = $1", promotion_id
    )
    return (bool(row["started_announced"]), bool(row["ended_announced"])) if row else (True, True)


async def mark_announced(conn: DbConn, promotion_id: UUID, *, started: bool, ended: bool) -> None:
    await conn.execute(
        "UPDATE promotions SET started_announced = started_announced OR $2,"
        " ended_announced = ended_announced OR $3 WHERE id = $1",
        promotion_id,
        started,
        ended,
    )
