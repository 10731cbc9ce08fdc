"""The product listing and search in plain SQL: filters, the keyset orders, relevance.

A product matches a query by Russian full-text (stemmed: "таблетки" finds "таблетка"), by
its words as written (Kazakh has no stemmer in PostgreSQL: the 'simple' configuration), by
trigram word similarity (typos: "парацитамол"; Kazakh endings: "дәрумен" finds "дәрумендер")
or by substring. Relevance is the sum of the full-text ranks and the similarity, all of them
functions of the product's own text and the query.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import asyncpg

from services.catalog.search import ProductQuery, Sort, SortKey
from services.catalog.storage import PRODUCT_COLUMNS, PRODUCT_FROM
from shared.db import DbConn

# (key expression, direction of the keyset comparison, ORDER BY)
_ORDERS: dict[Sort, tuple[str, str, str]] = {
    "relevance": ("rank", "<", "rank DESC, id DESC"),
    "name": ("name", ">", "name, id"),
    "price_asc": ("price", ">", "price, id"),
    "price_desc": ("price", "<", "price DESC, id DESC"),
    "newest": ("created_at", "<", "created_at DESC, id DESC"),
}
_RANK = (
    "(ts_rank(p.search_vector, websearch_to_tsquery('russian', $1))"
    " + ts_rank(p.search_vector, websearch_to_tsquery('simple', $1))"
    " + word_similarity($1, p.search_text))::float8"
)
_MATCH = (
    "p.search_vector @@ websearch_to_tsquery('russian', $1)"
    " OR p.search_vector @@ websearch_to_tsquery('simple', $1)"
    " OR $1 <% p.search_text"
)
# A substring needs three characters to have a trigram the index can look up.
_MIN_SUBSTRING = 3
_SUBTREE = (
    "p.category_id IN (WITH RECURSIVE tree AS ("
    " SELECT id FROM categories WHERE slug = ${n}"
    " UNION ALL SELECT c.id FROM categories c JOIN tree t ON c.parent_id = t.id)"
    " SELECT id FROM tree)"
)


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped.lower()}%"


@dataclass(frozen=True)
class Statement:
    sql: str
    args: tuple[Any, ...]


def search_statement(
    query: ProductQuery, after: tuple[SortKey, UUID] | None, limit: int
) -> Statement:
    """The listing's SQL for ``query`` after the cursor's row (the benchmark runs it bare)."""
    args: list[Any] = []
    conditions = ["p.archived_at IS NULL"]
    rank = "0::float8"
    if query.q:
        args.append(query.q)
        match = _MATCH
        if len(query.q) >= _MIN_SUBSTRING:
            args.append(like_pattern(query.q))
            match += f" OR p.search_text ILIKE ${len(args)}"
        conditions.append(f"({match})")
        rank = _RANK
    if query.category:
        args.append(query.category)
        conditions.append(_SUBTREE.format(n=len(args)))
    if query.min_price is not None:
        args.append(query.min_price)
        conditions.append(f"p.price >= ${len(args)}")
    if query.max_price is not None:
        args.append(query.max_price)
        conditions.append(f"p.price <= ${len(args)}")
    if query.in_stock is not None:
        conditions.append("p.stock > 0" if query.in_stock else "p.stock = 0")
    key, direction, order_by = _ORDERS[query.order]
    outer = ""
    if after is not None:
        args += list(after)
        outer = f" WHERE ({key}, id) {direction} (${len(args) - 1}, ${len(args)})"
    args.append(limit)
    sql = (
        f"SELECT * FROM (SELECT {PRODUCT_COLUMNS}, {rank} AS rank"  # noqa: S608 (fixed fragments)
        f" FROM {PRODUCT_FROM} WHERE {' AND '.join(conditions)}) found{outer}"
        f" ORDER BY {order_by} LIMIT ${len(args)}"
    )
    return Statement(sql, tuple(args))


async def search_products(
    conn: DbConn, query: ProductQuery, after: tuple[SortKey, UUID] | None, limit: int
) -> list[asyncpg.Record]:
    statement = search_statement(query, after, limit)
    return await conn.fetch(statement.sql, *statement.args)


def sort_key(row: asyncpg.Record, sort: Sort) -> SortKey:
    key: SortKey = row[_ORDERS[sort][0]]
    return key
