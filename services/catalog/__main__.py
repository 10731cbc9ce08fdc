"""Command line of the catalog: ``serve`` (default), ``migrate``, ``seed``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import asyncpg

from services.catalog.app import create_app
from services.catalog.config import Settings
from services.catalog.seed import seed_demo_catalog
from shared.migrations import ensure_database, migrate
from shared.service import run_service

MIGRATIONS = Path(__file__).parent / "migrations"


async def _migrate(settings: Settings) -> None:
    await ensure_database(settings.database_url)
    applied = await migrate(settings.database_url, MIGRATIONS, "catalog")
    print(f"catalog: applied {len(applied)} migration(s)")


async def _seed(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction():
            added = await seed_demo_catalog(conn)
    finally:
        await conn.close()
    print(f"catalog: seeded {added} new product(s)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.catalog")
    parser.add_argument("command", nargs="?", default="serve", choices=["serve", "migrate", "seed"])
    args = parser.parse_args(argv)
    settings = Settings()  # database_url and the rest come from the environment
    if args.command == "migrate":
        asyncio.run(_migrate(settings))
    elif args.command == "seed":
        asyncio.run(_seed(settings))
    else:
        run_service("catalog", create_app(settings), settings)


if __name__ == "__main__":
    main()
