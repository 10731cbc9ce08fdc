"""Command line of the catalog: ``serve`` (default), ``migrate``, ``replay-dead``, ``seed``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import asyncpg

from services.catalog.app import create_app
from services.catalog.config import Settings
from services.catalog.messages import QUEUE
from services.catalog.seed import seed_demo_catalog
from shared.cli import ServiceCli
from shared.service import run_service

MIGRATIONS = Path(__file__).parent / "migrations"


def serve() -> None:
    settings = Settings()  # database_url and the rest come from the environment
    run_service("catalog", create_app(settings), settings)


async def _seed(settings: Settings) -> None:
    conn = await asyncpg.connect(settings.database_url)
    try:
        async with conn.transaction():
            added = await seed_demo_catalog(conn)
    finally:
        await conn.close()
    print(f"catalog: seeded {added} new product(s)")


def _more(args: argparse.Namespace) -> int:
    assert args.command == "seed"
    asyncio.run(_seed(Settings()))
    return 0


def main(argv: list[str] | None = None) -> int:
    cli = ServiceCli("catalog", MIGRATIONS, QUEUE, serve)
    cli.commands.add_parser("seed", help="add the demo products that are not there yet")
    return cli.main(argv, _more)


if __name__ == "__main__":
    sys.exit(main())
