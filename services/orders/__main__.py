"""Command line of the orders service: ``serve`` (default), ``migrate``, ``replay-dead``,
``purge-carts``."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from shared.cli import ServiceCli, serving, with_connection

from . import storage
from .app import create_app
from .config import Settings
from .messages import QUEUE

MIGRATIONS = Path(__file__).parent / "migrations"


def _more(args: argparse.Namespace) -> int:
    assert args.command == "purge-carts"
    settings = Settings()  # database_url and the rest come from the environment
    purged = with_connection(
        settings.database_url,
        lambda conn: storage.purge_anonymous_carts(conn, settings.cart_retention_s),
    )
    print(f"orders: purged {purged} anonymous cart(s)")
    return 0


def main(argv: list[str] | None = None) -> int:
    cli = ServiceCli("orders", MIGRATIONS, QUEUE, serving("orders", Settings, create_app))
    cli.commands.add_parser("purge-carts", help="delete anonymous carts past their retention")
    return cli.main(argv, _more)


if __name__ == "__main__":
    sys.exit(main())
