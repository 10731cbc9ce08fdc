"""One running shop per end-to-end module, with every log line of it captured."""

from __future__ import annotations

import io
import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from shared.logging import configure_logging
from tests import infra
from tests.e2e.stack import Stack, running_stack


@pytest.fixture(scope="module")
def shop_logs() -> Iterator[io.StringIO]:
    buffer = io.StringIO()
    configure_logging("e2e", "DEBUG", stream=buffer)
    yield buffer
    logging.getLogger().handlers.clear()


@pytest.fixture(scope="module")
def shop_vhost(servers: infra.Servers) -> Iterator[str]:
    vhost = f"test-{infra.run_token()}"
    infra.create_vhost(servers.rabbitmqctl, vhost)
    yield infra.amqp_with_vhost(servers.amqp_url, vhost)
    infra.delete_vhost(servers.rabbitmqctl, vhost)


@pytest.fixture(scope="module")
async def shop(
    request: pytest.FixtureRequest,
    servers: infra.Servers,
    shop_vhost: str,
    shop_logs: io.StringIO,
    tmp_path_factory: pytest.TempPathFactory,
) -> AsyncIterator[Stack]:
    """The shop for one module; a module's ``SHOP_TUNING`` adds settings per part."""
    tuning = getattr(request.module, "SHOP_TUNING", None)
    workdir = tmp_path_factory.mktemp("shop")
    async with running_stack(servers, shop_vhost, workdir, tuning) as stack:
        yield stack
