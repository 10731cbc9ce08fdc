"""Command line of the catalog: ``serve`` (default), ``migrate``, ``replay-dead``, ``seed``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import asyncpg

from services.catalog.app import create_app
from services.catalog.config import Settings
from services.catalog.messages import QUEUE
from services.catalog.seed import seed_demo_catalog
from shared.cli import ServiceCli, serving, with_connection

MIGRATIONS = Path(__file__).parent / "migrations"


async def _seed(conn: asyncpg.Connection) -> int:
    async with conn.transaction():
        return await seed_demo_catalog(conn)


def _more(args: argparse.Namespace) -> int:
    assert args.command == "seed"
    added = with_connection(Settings().database_url, _seed)
    print(f"catalog: seeded {added} new product(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    cli = ServiceCli("catalog", MIGRATIONS, QUEUE, serving("catalog", Settings, create_app))
    cli.commands.add_parser("seed", help="add the demo products that are not there yet")
    return cli.main(argv, _more)


if __name__ == "__main__":
    sys.exit(main())
