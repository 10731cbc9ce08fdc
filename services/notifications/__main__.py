"""``python -m services.notifications [serve|migrate|replay-dead]``."""

from __future__ import annotations

import argparse
import asyncio
from pathlib import Path

import aio_pika

from services.notifications.app import create_app
from services.notifications.config import Settings
from services.notifications.messages import QUEUE
from shared.messaging import replay_dead
from shared.migrations import ensure_database, migrate
from shared.service import run_service

MIGRATIONS = Path(__file__).parent / "migrations"


async def _migrate(settings: Settings) -> list[str]:
    await ensure_database(settings.database_url)
    return await migrate(settings.database_url, MIGRATIONS, "notifications")


async def _replay(settings: Settings, limit: int | None) -> int:
    connection = await aio_pika.connect_robust(settings.amqp_url)
    try:
        return await replay_dead(connection, QUEUE, limit=limit)
    finally:
        await connection.close()


def main() -> None:
    parser = argparse.ArgumentParser(prog="services.notifications")
    commands = parser.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP API and the event consumer (default)")
    commands.add_parser("migrate", help="create the database if needed and apply migrations")
    replay = commands.add_parser("replay-dead", help=f"move parked messages back to {QUEUE}")
    replay.add_argument("--limit", type=int, default=None)
    args = parser.parse_args()
    settings = Settings()  # values come from the environment
    if args.command == "migrate":
        applied = asyncio.run(_migrate(settings))
        print(f"notifications: applied {len(applied)} migration(s)")
    elif args.command == "replay-dead":
        print(f"{QUEUE}: replayed {asyncio.run(_replay(settings, args.limit))} message(s)")
    else:
        run_service("notifications", create_app(settings), settings)


if __name__ == "__main__":
    main()
