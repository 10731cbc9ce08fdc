"""Fixtures of the deploy tests: the gateway in front of echo upstreams, an HTTP client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest

from deploy.gateway import NginxGateway, find_nginx
from tests.deploy.echo import echo_gateway


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[NginxGateway]:
    try:
        find_nginx()
    except RuntimeError:  # pragma: no cover - depends on the machine
        pytest.skip("nginx is not installed (make deps)")
    async with echo_gateway(tmp_path / "nginx") as nginx:
        yield nginx


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session
