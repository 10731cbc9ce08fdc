"""FAULT_ORDERS (1000) cash-on-delivery orders through the gateway while the shop's PostgreSQL
server is stopped (a fast shutdown: every session ended) and started again mid-run: while it
is down every replica of every service reports not ready (``/readyz`` 503), and afterwards
they recover by themselves (no process restarted), and what a shopper asked meanwhile was
answered 503 (try again), never 500: none lost, none doubled, each mail once,
nothing parked dead, every replica ready.

The shop's databases are on a private PostgreSQL cluster of this module
(``tests/faults/postgres.py``) and its broker a private RabbitMQ node: the machine's servers
are never touched.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import aiohttp
import pytest

from tests import infra
from tests.faults.brokers import Node
from tests.faults.orders import Ledger, reached
from tests.faults.postgres import PrivatePostgres, private_postgres
from tests.faults.scenario import ORDERS, EveryOrderOnce, Outcome, run_with_faults
from tests.faults.shop import FaultShop, wait_until

pytestmark = pytest.mark.asyncio(loop_scope="session")

DOWN_FOR_S = 5.0
NOT_READY_WITHIN_S = 30.0  # /readyz looks at the pool on each call: a bound, not a timing


@pytest.fixture(scope="module")
def postgres() -> Iterator[PrivatePostgres]:
    with private_postgres() as server:
        yield server


@pytest.fixture(scope="module")
def shop_servers(postgres: PrivatePostgres, nodes: list[Node]) -> infra.Servers:
    return postgres.servers(nodes[0].amqp_url, None)


@pytest.fixture(scope="module")
def while_down() -> dict[str, int]:
    """Each replica's ``/readyz`` status while the server was down (filled by the run)."""
    return {}


@pytest.fixture(scope="module")
async def outcome(
    shop: FaultShop, postgres: PrivatePostgres, nodes: list[Node], while_down: dict[str, int]
) -> Outcome:
    async def faults(ledger: Ledger, events: list[str]) -> None:
        await reached(ledger, ORDERS * 0.3)
        started = time.monotonic()
        await asyncio.to_thread(postgres.stop)
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=5)) as session:

            async def none_ready() -> bool:
                while_down.update(await shop.readiness(session))
                return all(status == 503 for status in while_down.values())

            await wait_until(none_ready, NOT_READY_WITHIN_S)
            await asyncio.sleep(max(0.0, DOWN_FOR_S - (time.monotonic() - started)))
        await asyncio.to_thread(postgres.start)
        events.append(f"PostgreSQL restart: back after {time.monotonic() - started:.1f} s")

    return await run_with_faults(shop, faults, nodes[0].queues)


async def test_every_replica_said_not_ready_while_the_server_was_down(
    outcome: Outcome, while_down: dict[str, int]
):
    assert len(outcome.events) == 1, outcome.events
    assert len(while_down) == len(outcome.ready) and set(while_down.values()) == {503}, while_down


async def test_the_outage_was_a_503_to_retry_never_a_500(outcome: Outcome):
    retried = outcome.ledger.retried
    assert any(key.endswith(" 503") for key in retried), retried
    assert not [key for key in retried if key.endswith(" 500")], retried


async def test_every_replica_recovered_by_itself(outcome: Outcome, shop: FaultShop):
    assert all(r.child.process and r.child.process.returncode is None for r in shop.every())


class TestPostgresRestart(EveryOrderOnce):
    pass
