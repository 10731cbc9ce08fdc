"""The schema a data map is checked against: a service's real, migrated tables and columns."""

from __future__ import annotations

import asyncpg

from shared.data_map import DataMap


async def schema_of(dsn: str) -> dict[str, set[str]]:
    """table -> its columns, for the base tables of the public schema."""
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch(
            "SELECT c.table_name, c.column_name FROM information_schema.columns c"
            " JOIN information_schema.tables t USING (table_schema, table_name)"
            " WHERE c.table_schema = 'public' AND t.table_type = 'BASE TABLE'"
        )
    finally:
        await conn.close()
    schema: dict[str, set[str]] = {}
    for row in rows:
        schema.setdefault(row["table_name"], set()).add(row["column_name"])
    return schema


async def map_problems(dsn: str, data_map: DataMap) -> list[str]:
    return data_map.problems(await schema_of(dsn))
