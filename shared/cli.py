"""The command line every service shares: ``serve`` (the default), ``migrate``, ``replay-dead``.

A service's ``__main__`` makes a ``ServiceCli`` (``serving`` builds its usual ``serve``),
adds its own commands (``command(name, help, run)``, or parsers on ``commands`` handed to the
function it passes to ``main`` as ``more``) and calls ``main``. A one-off command on the
database runs through ``with_connection``.
"""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from pathlib import Path
from typing import Any, TypeVar

import asyncpg
from aiohttp import web

from shared.messaging import replay_dead
from shared.messaging.supervisor import connect
from shared.migrations import ensure_database, migrate
from shared.service import run_service
from shared.settings import ServiceSettings
from shared.telemetry import traced_process

S = TypeVar("S", bound=ServiceSettings)
T = TypeVar("T")


def serving(
    name: str, load: Callable[[], S], create_app: Callable[[S], web.Application]
) -> Callable[[], None]:
    """The ``serve`` command: the settings from the environment, the app, served until stopped."""

    def serve() -> None:
        settings = load()
        with traced_process(name, settings):
            run_service(name, create_app(settings), settings)

    return serve


def with_connection(dsn: str, use: Callable[[asyncpg.Connection], Awaitable[T]]) -> T:
    """Run ``use`` on one database connection, closed after (for a one-off command)."""

    async def run() -> T:
        conn = await asyncpg.connect(dsn)
        try:
            return await use(conn)
        finally:
            await conn.close()

    return asyncio.run(run())


async def migrate_service(dsn: str, migrations: Path, name: str) -> list[str]:
    """Create the service's database if needed and apply its migrations."""
    await ensure_database(dsn)
    return await migrate(dsn, migrations, name)


async def replay_parked(amqp_url: str, queue: str, limit: int | None) -> int:
    connection = await connect(amqp_url)
    try:
        return await replay_dead(connection, queue, limit=limit)
    finally:
        await connection.close()


class ServiceCli:
    """``python -m services.<name> [serve|migrate|replay-dead|...]``."""

    def __init__(
        self,
        name: str,
        migrations: Path,
        queue: str,
        serve: Callable[[], object],
        migrate: Callable[[], Coroutine[Any, Any, list[str]]] | None = None,
    ) -> None:
        """``migrate`` replaces the usual one (the service's database from ``DATABASE_URL``)
        for a service with more than one database to prepare (customers' key store)."""
        self.name, self.migrations, self.queue, self.serve = name, migrations, queue, serve
        self.migrate = migrate or self._migrate_database
        self.parser = argparse.ArgumentParser(prog=f"python -m services.{name}")
        self.commands = self.parser.add_subparsers(dest="command")
        self.commands.add_parser("serve", help="run the HTTP API, consumer and relay (default)")
        self.commands.add_parser("migrate", help="create the database if needed and migrate it")
        replay = self.commands.add_parser(
            "replay-dead", aliases=["replay"], help=f"move parked messages back to {queue}"
        )
        replay.add_argument("--limit", type=int, default=None)
        self._runs: dict[str, Callable[[], object]] = {}

    async def _migrate_database(self) -> list[str]:
        # Only the shared settings: migrating needs no keys or service-specific values.
        return await migrate_service(ServiceSettings().database_url, self.migrations, self.name)

    def command(self, name: str, help: str, run: Callable[[], object]) -> None:
        """A service-specific command without arguments: ``run()`` does it."""
        self.commands.add_parser(name, help=help)
        self._runs[name] = run

    def db_command(
        self,
        name: str,
        help: str,
        use: Callable[[asyncpg.Connection], Awaitable[int]],
        done: str,
    ) -> None:
        """A command on the service's database: ``use(conn)`` counts what it did, printed as
        ``done`` (``"purged {} cart(s)"``) after the service's name."""

        def run() -> None:
            count = with_connection(ServiceSettings().database_url, use)
            print(f"{self.name}: {done.format(count)}")

        self.command(name, help, run)

    def main(
        self,
        argv: list[str] | None = None,
        more: Callable[[argparse.Namespace], int] | None = None,
    ) -> int:
        """Run the command in ``argv``; the exit status."""
        args = self.parser.parse_args(argv)
        if args.command in (None, "serve"):
            self.serve()
            return 0
        if args.command == "migrate":
            applied = asyncio.run(self.migrate())
            print(f"{self.name}: applied {len(applied)} migration(s)")
            return 0
        if args.command in ("replay-dead", "replay"):
            amqp_url = ServiceSettings().amqp_url
            replayed = asyncio.run(replay_parked(amqp_url, self.queue, args.limit))
            print(f"{self.queue}: replayed {replayed} message(s)")
            return 0
        if args.command in self._runs:
            self._runs[args.command]()
            return 0
        if more is not None:
            return more(args)
        self.parser.print_help()
        return 2
