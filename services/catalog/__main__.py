"""Command line of the catalog: ``serve`` (default), ``migrate``, ``replay-dead``, ``seed``."""

from __future__ import annotations

import sys
from pathlib import Path

import asyncpg

from services.catalog.app import create_app
from services.catalog.config import Settings
from services.catalog.messages import QUEUE
from services.catalog.seed import seed_demo_catalog
from shared.cli import ServiceCli, serving

MIGRATIONS = Path(__file__).parent / "migrations"


async def _seed(conn: asyncpg.Connection) -> int:
    async with conn.transaction():
        return await seed_demo_catalog(conn)


def main(argv: list[str] | None = None) -> int:
    cli = ServiceCli("catalog", MIGRATIONS, QUEUE, serving("catalog", Settings, create_app))
    seed = "add the demo products that are not there yet"
    cli.db_command("seed", seed, _seed, "seeded {} new product(s)")
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
