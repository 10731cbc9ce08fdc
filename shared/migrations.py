"""A small migration runner: numbered ``.sql`` files applied once, in order, under a lock.

The shared messaging tables (outbox, inbox) come first, then the service's own files.
An advisory lock makes concurrent start-ups of the same service safe.
"""

from __future__ import annotations

import argparse
import asyncio
import os
from pathlib import Path

import asyncpg

SHARED_SQL = Path(__file__).parent / "sql"
_LOCK_KEY = 7_404_202_6  # any constant; the same for every runner of every service


def _migration_files(directory: Path, namespace: str) -> list[tuple[str, Path]]:
    return [(f"{namespace}/{path.stem}", path) for path in sorted(directory.glob("*.sql"))]


async def migrate(
    dsn: str, service_migrations: Path, service: str, *, with_shared: bool = True
) -> list[str]:
    """Apply what is not applied yet; return the versions applied now.

    ``with_shared=False`` leaves out the messaging tables, for a database that sends and
    receives nothing (customers' key store).
    """
    shared = _migration_files(SHARED_SQL, "shared") if with_shared else []
    files = shared + _migration_files(service_migrations, service)
    conn = await asyncpg.connect(dsn)
    applied_now: list[str] = []
    try:
        await conn.execute("SELECT pg_advisory_lock($1)", _LOCK_KEY)
        try:
            await conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations ("
                " version text PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {r["version"] for r in await conn.fetch("SELECT version FROM schema_migrations")}
            for version, path in files:
                if version in done:
                    continue
                async with conn.transaction():
                    await conn.execute(path.read_text())
                    await conn.execute(
                        "INSERT INTO schema_migrations (version) VALUES ($1)", version
                    )
                applied_now.append(version)
        finally:
            await conn.execute("SELECT pg_advisory_unlock($1)", _LOCK_KEY)
    finally:
        await conn.close()
    return applied_now


async def ensure_database(dsn: str) -> None:
    """Create the database named in ``dsn`` if it does not exist (dev and tests)."""
    base, _, name = dsn.rpartition("/")
    name = name.split("?", 1)[0]
    conn = await asyncpg.connect(f"{base}/postgres")
    try:
        exists = await conn.fetchval("SELECT 1 FROM pg_database WHERE datname = $1", name)
        if not exists:
            await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()


def main() -> None:
    parser = argparse.ArgumentParser(description="Apply a service's migrations")
    parser.add_argument("service", help="catalog, orders, customers or notifications")
    args = parser.parse_args()
    dsn = os.environ["DATABASE_URL"]
    directory = Path(__file__).parent.parent / "services" / args.service / "migrations"
    asyncio.run(ensure_database(dsn))
    applied = asyncio.run(migrate(dsn, directory, args.service))
    print(f"{args.service}: applied {len(applied)} migration(s)")


if __name__ == "__main__":
    main()
