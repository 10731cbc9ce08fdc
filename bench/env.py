"""Throw-away databases and vhosts for a benchmark run, on the local servers."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from shared.migrations import migrate
from tests import infra

ROOT = Path(__file__).resolve().parent.parent


@contextlib.asynccontextmanager
async def bench_database(servers: infra.Servers, service: str) -> AsyncIterator[str]:
    name = f"b_{infra.run_token()}_{service}"
    dsn = await infra.create_database(servers.pg_admin_dsn, name)
    try:
        await migrate(dsn, ROOT / "services" / service / "migrations", service)
        yield dsn
    finally:
        await infra.drop_database(servers.pg_admin_dsn, name)


@contextlib.contextmanager
def bench_vhost(servers: infra.Servers):  # type: ignore[no-untyped-def]
    vhost = f"bench-{infra.run_token()}"
    infra.create_vhost(servers.rabbitmqctl, vhost)
    try:
        yield infra.amqp_with_vhost(servers.amqp_url, vhost)
    finally:
        infra.delete_vhost(servers.rabbitmqctl, vhost)
