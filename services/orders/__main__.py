"""Command line of the orders service: ``serve`` (default), ``migrate``, ``replay-dead``,
``purge-carts``."""

from __future__ import annotations

import sys
from pathlib import Path

import asyncpg

from shared.cli import ServiceCli, serving

from . import storage
from .app import create_app
from .config import Settings
from .messages import QUEUE

MIGRATIONS = Path(__file__).parent / "migrations"


async def _purge_carts(conn: asyncpg.Connection) -> int:
    return await storage.purge_anonymous_carts(conn, Settings().cart_retention_s)


def main(argv: list[str] | None = None) -> int:
    cli = ServiceCli("orders", MIGRATIONS, QUEUE, serving("orders", Settings, create_app))
    purge = "delete anonymous carts past their retention"
    cli.db_command("purge-carts", purge, _purge_carts, "purged {} anonymous cart(s)")
    return cli.main(argv)


if __name__ == "__main__":
    sys.exit(main())
