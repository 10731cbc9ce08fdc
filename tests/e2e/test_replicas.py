"""Two replicas of every service as processes behind the gateway (``make up REPLICAS=2``):
requests are spread over both, and with one SIGKILLed the shop still answers while the
supervisor starts it again."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import AsyncIterator

import aiohttp
import pytest

from deploy.gateway import SERVICES
from tests import infra
from tests.e2e.processes import RunningShop, replicated_shop
from tests.e2e.shopper import ApiClient
from tests.e2e.stack import SERVICES as E2E_SERVICES

HANG_GUARD_S = 120  # only against a hung run; nothing here is timed


@pytest.fixture(scope="module")
async def running(
    servers: infra.Servers, shop_vhost: str, tmp_path_factory: pytest.TempPathFactory
) -> AsyncIterator[RunningShop]:
    async with replicated_shop(servers, shop_vhost, tmp_path_factory.mktemp("replicas")) as shop:
        yield shop


def upstreams_seen(running: RunningShop, path_prefix: str) -> Counter[str]:
    """How often each upstream address answered a request under ``path_prefix``."""
    seen: Counter[str] = Counter()
    for line in running.gateway.access_log.read_text().splitlines():
        entry = json.loads(line)
        if entry["path"].startswith(path_prefix):
            seen.update(entry["upstream"].split(", "))  # several when passed on
    return seen


def address(running: RunningShop, name: str, replica: int) -> str:
    return f"127.0.0.1:{running.shop.ports.of(name)[replica]}"


async def browse(session: aiohttp.ClientSession, base: str, times: int) -> list[int]:
    statuses = []
    for _ in range(times):
        async with session.get(f"{base}/api/catalog/products") as response:
            await response.read()
            statuses.append(response.status)
    return statuses


def test_each_service_runs_two_processes_on_their_own_ports(running: RunningShop) -> None:
    assert set(SERVICES) == set(E2E_SERVICES)
    for name in SERVICES:
        names = running.supervisor.replicas(name)
        assert names == [f"{name}#1", f"{name}#2"]
        assert len({running.supervisor.pid(n) for n in names}) == 2
        assert len(set(running.shop.ports.of(name))) == 2


async def test_the_gateway_spreads_requests_over_both(running: RunningShop) -> None:
    async with aiohttp.ClientSession() as session:
        assert set(await browse(session, running.gateway_url, 20)) == {200}
    seen = upstreams_seen(running, "/api/catalog/products")
    assert seen[address(running, "catalog", 0)] > 0
    assert seen[address(running, "catalog", 1)] > 0


async def test_a_killed_replica_is_restarted_and_the_shop_answers_meanwhile(
    running: RunningShop,
) -> None:
    supervisor = running.supervisor
    async with asyncio.timeout(HANG_GUARD_S), aiohttp.ClientSession() as session:
        for name in SERVICES:
            supervisor.kill(f"{name}#1")
        # The dead replicas are passed over: every request still answers.
        assert set(await browse(session, running.gateway_url, 10)) == {200}
        api = ApiClient(session, running.gateway_url)
        status, _ = await api.call("GET", "/api/customers/policy")
        assert status == 200
        for name in SERVICES:
            await supervisor.wait_ready(f"{name}#1")
            assert supervisor.restarts(f"{name}#1") == 1
    text = (running.log_dir / "supervisor.log").read_text()
    for name in SERVICES:
        assert f"{name}#1 exited with 137; restarting in" in text
        assert f"{name}#1 is up again" in text
        assert f"{name}#1 exited" in (running.log_dir / f"{name}#1.log").read_text()
