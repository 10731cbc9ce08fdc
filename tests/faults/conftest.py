"""The fault suite's fixtures: the private RabbitMQ nodes a module asks for (its ``NODES``,
one unless it says), the shop on them, and the log lines of the parts run in this process.
A module whose shop needs other servers overrides ``shop_servers``."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.logging import configure_logging
from tests import infra
from tests.faults.brokers import Node, cluster_url, private_nodes
from tests.faults.shop import FaultShop, fault_shop


@pytest.fixture(scope="module")
def fault_logs() -> Iterator[io.StringIO]:
    """The sink's and the courier's log lines (the services log to their own files)."""
    buffer = io.StringIO()
    configure_logging("faults", "INFO", stream=buffer)
    for name in ("aio_pika", "aiormq"):  # their reconnect tracebacks keep channels alive
        logging.getLogger(name).propagate = False
    yield buffer
    logging.getLogger().handlers.clear()
    for name in ("aio_pika", "aiormq"):
        logging.getLogger(name).propagate = True


@pytest.fixture(scope="module")
def nodes(request: pytest.FixtureRequest) -> Iterator[list[Node]]:
    with private_nodes(getattr(request.module, "NODES", 1)) as started:
        yield started


@pytest.fixture(scope="module")
def shop_servers(servers: infra.Servers) -> infra.Servers:
    return servers


@pytest.fixture(scope="module")
async def shop(
    shop_servers: infra.Servers, nodes: list[Node], fault_logs, tmp_path_factory
) -> AsyncIterator[FaultShop]:
    """Two replicas of every service, given every node's address (``AMQP_URL``)."""
    workdir = tmp_path_factory.mktemp("faults")
    async with fault_shop(shop_servers, cluster_url(nodes), workdir) as started:
        yield started
