"""The data map's schema check fails on what would slip past export, erasure and retention."""

from __future__ import annotations

from dataclasses import replace

import asyncpg

from services.orders.data_map import DATA_MAP
from tests.conftest import MakeDatabase
from tests.data_map_schema import map_problems


async def test_a_new_table_with_a_customer_id_is_caught(make_database: MakeDatabase) -> None:
    dsn = await make_database("orders")
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("CREATE TABLE wishlists (customer_id uuid, product_id uuid)")
        await conn.execute("CREATE TABLE coupons (code text)")
    finally:
        await conn.close()
    problems = await map_problems(dsn, DATA_MAP)
    assert [p.split(":")[0] for p in problems] == ["coupons", "wishlists"]
    hidden = replace(DATA_MAP, unlinked={**DATA_MAP.unlinked, "wishlists": "x", "coupons": "y"})
    assert await map_problems(dsn, hidden) == [
        "wishlists: has customer_id but is listed as unlinked"
    ]


async def test_a_stale_or_wrong_holding_is_caught(make_database: MakeDatabase) -> None:
    dsn = await make_database("orders")
    carts = DATA_MAP.holding("carts")
    wrong = replace(
        DATA_MAP,
        holdings=(
            *(h for h in DATA_MAP.holdings if h.table != "carts"),
            replace(carts, link="owner_id", section=None),
            replace(carts, table="baskets"),
        ),
    )
    problems = await map_problems(dsn, wrong)
    assert "carts: link column 'owner_id' is not in the table" in problems
    assert "carts: not exported and no not_exported reason" in problems
    assert "baskets: a holding of a table that is not in the schema" in problems
