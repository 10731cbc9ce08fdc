"""The product listing and search in plain SQL: filters, the keyset orders, relevance.

A product matches a query by Russian full-text (stemmed: "таблетки" finds "таблетка") or by
its words as written (Kazakh has no stemmer in PostgreSQL: the 'simple' configuration): the
``exact`` mode. When nothing on sale matches so, the ``fuzzy`` mode matches by trigram word
similarity (typos: "парацитамол"; Kazakh endings: "дәрумен" finds "дәрумендер") or by
substring (services/catalog/search.py says why not both at once). Relevance is the full-text
rank, or the similarity, of the product's own text and the query, computed for at most
``RANKED`` matches (the candidate cap: the API documents it). The statement collects the
matches with their sort keys only and reads the page's products after, with their live
promotions (``promotion_storage.OFFERS_JOIN``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import asyncpg

from services.catalog.promotion_storage import OFFER_COLUMNS, OFFERS_JOIN
from services.catalog.search import After, Mode, ProductQuery, Sort, SortKey
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
# One tsquery for both configurations: the Russian stems or the words as written. A
# sub-select, so that it is computed once per statement: asyncpg's statements are prepared,
# and in PostgreSQL's generic plan a function of a parameter is computed again for every row
# (2.5 times the time of a broad query at 100 000 products).
_TSQUERY = "(SELECT websearch_to_tsquery('russian', $1) || websearch_to_tsquery('simple', $1))"
_RANK: dict[Mode, str] = {
    "exact": f"ts_rank(p.search_vector, {_TSQUERY})::float8",
    "fuzzy": "word_similarity($1, p.search_text)::float8",
}
_EXACT = f"p.search_vector @@ {_TSQUERY}"
# How many matches a search by relevance ranks at most: the first ones the text index gives
# (in the table's order, not by rank). Ranking costs per match (a trigram similarity about
# 30 µs), and a broad word matches a tenth of 100 000 products.
RANKED: dict[Mode, int] = {"exact": 1000, "fuzzy": 100}
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
    query: ProductQuery, after: After | None, limit: int, mode: Mode = "exact"
) -> Statement:
    """The listing's SQL for ``query`` after the cursor's row (the benchmark runs it bare)."""
    args: list[Any] = []
    conditions = ["p.archived_at IS NULL"]
    rank = "0::float8"
    if query.q:
        args.append(query.q)
        match = _EXACT
        if mode == "fuzzy":
            match = "$1 <% p.search_text"
            if len(query.q) >= _MIN_SUBSTRING:
                args.append(like_pattern(query.q))
                match += f" OR p.search_text ILIKE ${len(args)}"
        conditions.append(f"({match})")
        rank = _RANK[mode]
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
        args += [after.key, after.product_id]
        outer = f" WHERE ({key}, id) {direction} (${len(args) - 1}, ${len(args)})"
    # The matches and their sort keys only (narrow rows); the page's products are read after.
    source = f"products p WHERE {' AND '.join(conditions)}"
    if query.order != "relevance":
        rank = "0::float8"
    elif query.q:
        # The candidate cap: only the first RANKED[mode] matches the index gives are ranked.
        args.append(RANKED[mode])
        source = (
            "(SELECT p.id, p.name, p.price, p.created_at, p.search_vector,"  # noqa: S608
            f" p.search_text FROM {source} LIMIT ${len(args)}) p"
        )
    args.append(limit)
    found = f"SELECT p.id, p.name, p.price, p.created_at, {rank} AS rank FROM {source}"  # noqa: S608
    # With a query, the matches come from the text indexes first: the planner otherwise may
    # walk the price or date index and test every product against the query (seen: 300 ms
    # for 2 000 matches in 100 000).
    materialized = "MATERIALIZED " if query.q else ""
    sql = (
        f"WITH found AS {materialized}({found}),"  # noqa: S608 (fixed fragments)
        f" page AS (SELECT * FROM found{outer} ORDER BY {order_by} LIMIT ${len(args)})"
        f" SELECT {PRODUCT_COLUMNS}, {OFFER_COLUMNS}, page.rank"
        f" FROM {PRODUCT_FROM} JOIN page ON page.id = p.id {OFFERS_JOIN}"
        f" ORDER BY {order_by}"
    )
    return Statement(sql, tuple(args))


async def match_mode(conn: DbConn, q: str) -> Mode:
    """``exact`` if some product on sale matches ``q`` by full text, else ``fuzzy``."""
    found = await conn.fetchval(
        "SELECT EXISTS (SELECT 1 FROM products p"  # noqa: S608 (a fixed fragment)
        f" WHERE p.archived_at IS NULL AND ({_EXACT}))",
        q,
    )
    return "exact" if found else "fuzzy"


async def search_products(
    conn: DbConn, query: ProductQuery, after: After | None, limit: int
) -> tuple[list[asyncpg.Record], Mode]:
    """A page of the listing and the match mode it was found in."""
    mode: Mode = after.mode if after is not None else "exact"
    rows = await _fetch(conn, search_statement(query, after, limit, mode))
    # A first page with no exact match: the mode is fuzzy if nothing on sale matches
    # exactly (with filters, exact matches elsewhere keep the page empty and exact).
    if not rows and after is None and query.q and await match_mode(conn, query.q) == "fuzzy":
        mode = "fuzzy"
        rows = await _fetch(conn, search_statement(query, after, limit, mode))
    return rows, mode


async def _fetch(conn: DbConn, statement: Statement) -> list[asyncpg.Record]:
    return await conn.fetch(statement.sql, *statement.args)


def sort_key(row: asyncpg.Record, sort: Sort) -> SortKey:
    key: SortKey = row[_ORDERS[sort][0]]
    return key
