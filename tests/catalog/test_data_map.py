"""The catalog data map covers every table of the migrated schema (shared.data_map)."""

from __future__ import annotations

from services.catalog.data_map import DATA_MAP
from tests.conftest import MakeDatabase
from tests.data_map_schema import map_problems


async def test_every_table_is_mapped(make_database: MakeDatabase) -> None:
    dsn = await make_database("catalog")
    assert await map_problems(dsn, DATA_MAP) == []
