"""Command line of the orders service: ``serve`` (default), ``migrate``, ``replay-dead``,
``purge-carts``."""

from __future__ import annotations

import argparse
import asyncio
import sys
from pathlib import Path

import asyncpg

from shared.cli import ServiceCli
from shared.service import run_service

from . import storage
from .app import create_app
from .config import Settings
from .messages import QUEUE

MIGRATIONS = Path(__file__).parent / "migrations"


def serve() -> None:
    settings = Settings()  # database_url and the rest come from the environment
    run_service("orders", create_app(settings), settings)


async def _purge_carts(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await storage.purge_anonymous_carts(conn, settings.cart_retention_s)
    finally:
        await conn.close()


def _more(args: argparse.Namespace) -> int:
    assert args.command == "purge-carts"
    print(f"orders: purged {asyncio.run(_purge_carts(Settings()))} anonymous cart(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    cli = ServiceCli("orders", MIGRATIONS, QUEUE, serve)
    cli.commands.add_parser("purge-carts", help="delete anonymous carts past their retention")
    return cli.main(argv, _more)


if __name__ == "__main__":
    sys.exit(main())
