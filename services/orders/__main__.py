"""Command line of the orders service: ``serve`` (default), ``migrate``, ``purge-carts``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import asyncpg

from shared.migrations import ensure_database, migrate
from shared.service import run_service

from . import storage
from .app import create_app
from .config import Settings

MIGRATIONS = Path(__file__).parent / "migrations"


async def _migrate(settings: Settings) -> list[str]:
    await ensure_database(settings.database_url)
    return await migrate(settings.database_url, MIGRATIONS, "orders")


async def _purge_carts(settings: Settings) -> int:
    conn = await asyncpg.connect(settings.database_url)
    try:
        return await storage.purge_anonymous_carts(conn, settings.cart_retention_s)
    finally:
        await conn.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m services.orders")
    parser.add_argument(
        "command", nargs="?", default="serve", choices=["serve", "migrate", "purge-carts"]
    )
    args = parser.parse_args(argv)
    settings = Settings()  # database_url and the rest come from the environment
    if args.command == "migrate":
        applied = asyncio.run(_migrate(settings))
        print(f"orders: applied {len(applied)} migration(s)")
    elif args.command == "purge-carts":
        print(f"orders: purged {asyncio.run(_purge_carts(settings))} anonymous cart(s)")
    else:
        run_service("orders", create_app(settings), settings)


if __name__ == "__main__":
    main()
