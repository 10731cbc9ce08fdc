"""Fixtures shared by every test: real PostgreSQL databases, a RabbitMQ vhost, keys, logs."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path

import aio_pika
import pytest

from shared.auth import TokenIssuer, generate_signing_key_pem
from shared.logging import configure_logging
from shared.migrations import migrate
from tests import infra

ROOT = Path(__file__).resolve().parent.parent
pytest_plugins = ["tests.watchdog"]


@pytest.fixture(scope="session")
def servers() -> Iterator[infra.Servers]:
    with infra.servers() as found:
        yield found


@pytest.fixture(scope="session")
def run_id() -> str:
    return infra.run_token()


@pytest.fixture(scope="session")
def amqp_url(servers: infra.Servers, run_id: str) -> Iterator[str]:
    """A RabbitMQ vhost of this test run, deleted at the end."""
    vhost = f"test-{run_id}"
    infra.create_vhost(servers.rabbitmqctl, vhost)
    yield infra.amqp_with_vhost(servers.amqp_url, vhost)
    infra.delete_vhost(servers.rabbitmqctl, vhost)


@pytest.fixture
async def fresh_vhost(servers: infra.Servers) -> AsyncIterator[str]:
    """A vhost of one test alone, for tests that need an empty broker."""
    vhost = f"test-{infra.run_token()}"
    infra.create_vhost(servers.rabbitmqctl, vhost)
    yield infra.amqp_with_vhost(servers.amqp_url, vhost)
    infra.delete_vhost(servers.rabbitmqctl, vhost)


MakeDatabase = Callable[[str], Awaitable[str]]


@pytest.fixture
async def make_database(servers: infra.Servers) -> AsyncIterator[MakeDatabase]:
    """Create a migrated database for a service (``await make_database("catalog")``).

    Every database made by one test is dropped after it.
    """
    made: list[str] = []

    async def make(service: str) -> str:
        name = f"t_{infra.run_token()}_{service}"
        dsn = await infra.create_database(servers.pg_admin_dsn, name)
        made.append(name)
        await migrate(dsn, ROOT / "services" / service / "migrations", service)
        return dsn

    yield make
    for name in made:
        await infra.drop_database(servers.pg_admin_dsn, name)


@pytest.fixture(scope="session")
def signing_keys() -> tuple[str, str]:
    """An Ed25519 pair (private PEM, public PEM) for access tokens in this run."""
    return generate_signing_key_pem()


@pytest.fixture(scope="session")
def token_issuer(signing_keys: tuple[str, str]) -> TokenIssuer:
    return TokenIssuer(signing_keys[0])


@pytest.fixture
def captured_logs() -> Iterator[io.StringIO]:
    """Every log line of the test, as the JSON a service would print."""
    buffer = io.StringIO()
    configure_logging("test", "DEBUG", stream=buffer)
    yield buffer
    logging.getLogger().handlers.clear()


@pytest.fixture
async def amqp(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractRobustConnection]:
    connection = await aio_pika.connect_robust(amqp_url)
    yield connection
    await connection.close()
