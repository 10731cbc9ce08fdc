"""Migrations apply once, in order, even when several processes start together."""

from __future__ import annotations

import asyncio

import asyncpg

from shared.migrations import migrate
from tests import infra


async def test_concurrent_runners_apply_each_migration_once(servers, tmp_path):
    (tmp_path / "0001_a.sql").write_text("CREATE TABLE a (id int);")
    (tmp_path / "0002_b.sql").write_text("CREATE TABLE b (id int); INSERT INTO a VALUES (1);")
    name = f"t_{infra.run_token()}_mig"
    dsn = await infra.create_database(servers.pg_admin_dsn, name)
    try:
        results = await asyncio.gather(*(migrate(dsn, tmp_path, "demo") for _ in range(4)))
        applied = sorted(v for r in results for v in r)
        assert applied == [
            "demo/0001_a",
            "demo/0002_b",
            "shared/0001_messaging",
            "shared/0002_access_revocations",
            "shared/0003_retention",
        ]
        (tmp_path / "0003_c.sql").write_text("ALTER TABLE b ADD COLUMN note text;")
        assert await migrate(dsn, tmp_path, "demo") == ["demo/0003_c"]
        conn = await asyncpg.connect(dsn)
        assert await conn.fetchval("SELECT count(*) FROM a") == 1
        await conn.close()
    finally:
        await infra.drop_database(servers.pg_admin_dsn, name)
