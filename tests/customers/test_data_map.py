"""The customers data map covers every table of the migrated schema (shared.data_map)."""

from __future__ import annotations

from services.customers.data_map import DATA_MAP, KEYSTORE_MAP
from tests.conftest import MakeDatabase
from tests.customers.conftest import MakeKeystore
from tests.data_map_schema import map_problems


async def test_every_table_is_mapped(make_database: MakeDatabase) -> None:
    dsn = await make_database("customers")
    assert await map_problems(dsn, DATA_MAP) == []


async def test_every_table_of_the_key_store_is_mapped(make_keystore: MakeKeystore) -> None:
    assert await map_problems(await make_keystore(), KEYSTORE_MAP) == []
