"""The servers of a benchmark run and its throw-away databases and vhosts on them.

The servers are ``make up``'s (``SHOP_PG_URL`` / ``SHOP_AMQP_URL``, or localhost with the
role ``deploy.postgres`` sets up), started the Debian way when they do not answer; every run
makes ``b_<random>_<service>`` databases and a ``bench-<random>`` vhost and drops them
afterwards.
"""

from __future__ import annotations

import contextlib
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

from deploy import servers as infra
from deploy.run import server_urls
from deploy.servers import Servers
from deploy.stack import KEYSTORE
from services.customers.keystore import migrate_keystore
from shared.migrations import migrate

ROOT = Path(__file__).resolve().parent.parent


def say(text: str) -> None:
    print(f"[bench] {text}", flush=True)


@contextlib.contextmanager
def bench_servers() -> Iterator[Servers]:
    pg_url, amqp_url = server_urls(say)
    yield Servers(
        pg_admin_dsn=infra.with_database(pg_url, "postgres"),
        amqp_url=amqp_url,
        rabbitmqctl=["rabbitmqctl"] if shutil.which("rabbitmqctl") else None,
    )


@contextlib.asynccontextmanager
async def bench_database(servers: Servers, service: str) -> AsyncIterator[str]:
    """A fresh migrated database of a service (or of customers' key store, "keystore")."""
    name = f"b_{infra.run_token()}_{service}"
    dsn = await infra.create_database(servers.pg_admin_dsn, name)
    try:
        if service == KEYSTORE:
            await migrate_keystore(dsn)
        else:
            await migrate(dsn, ROOT / "services" / service / "migrations", service)
        yield dsn
    finally:
        await infra.drop_database(servers.pg_admin_dsn, name)


@contextlib.contextmanager
def bench_vhost(servers: Servers) -> Iterator[str]:
    vhost = f"bench-{infra.run_token()}"
    infra.create_vhost(servers.rabbitmqctl, vhost)
    try:
        yield infra.amqp_with_vhost(servers.amqp_url, vhost)
    finally:
        infra.delete_vhost(servers.rabbitmqctl, vhost)
