"""FAULT_ORDERS (1000) cash-on-delivery orders through the gateway while the shop's RabbitMQ
node is restarted twice (``stop_app``/``start_app``, then the whole node stopped and
started) and one replica of every service is SIGKILLed and started again: none lost (each
order delivered), none doubled (one order per checkout, each dispatch at the courier once,
each mail at the SMTP sink once), nothing parked dead.

The shop (two replicas per service, ``tests/faults/shop.py``) runs on a private RabbitMQ
node of this module (``tests/faults/brokers.py``), never on the machine's broker.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import pytest

from tests import infra
from tests.faults.brokers import Node, private_nodes
from tests.faults.conftest import ORDERS
from tests.faults.orders import Ledger, reached
from tests.faults.scenario import (
    Outcome,
    check_each_mail_once,
    check_none_doubled,
    check_none_lost,
    check_nothing_parked_and_every_replica_ready,
    run_with_faults,
)
from tests.faults.shop import FaultShop, fault_shop, kill_and_restart

pytestmark = pytest.mark.asyncio(loop_scope="session")

DOWN_FOR_S = 3.0


@pytest.fixture(scope="module")
def node() -> Iterator[Node]:
    with private_nodes(1) as nodes:
        yield nodes[0]


@pytest.fixture(scope="module")
async def shop(
    servers: infra.Servers, node: Node, fault_logs, tmp_path_factory
) -> AsyncIterator[FaultShop]:
    async with fault_shop(servers, node.amqp_url, tmp_path_factory.mktemp("faults")) as shop:
        yield shop


async def restart_broker(node: Node, how: str, events: list[str]) -> None:
    started = time.monotonic()
    await asyncio.to_thread(node.stop_app if how == "app" else node.stop)
    await asyncio.sleep(DOWN_FOR_S)
    await asyncio.to_thread(node.start_app if how == "app" else node.start)
    events.append(f"broker {how} restart: back after {time.monotonic() - started:.1f} s")


@pytest.fixture(scope="module")
async def outcome(shop: FaultShop, node: Node) -> Outcome:
    async def faults(ledger: Ledger, events: list[str]) -> None:
        await reached(ledger, ORDERS * 0.2)
        await restart_broker(node, "app", events)
        await reached(ledger, ORDERS * 0.4)
        await kill_and_restart(shop, [group[0] for group in shop.replicas.values()], events)
        await reached(ledger, ORDERS * 0.6)
        await restart_broker(node, "node", events)

    return await run_with_faults(shop, faults, node.queues)


async def test_the_faults_happened_mid_run(outcome: Outcome):
    assert len(outcome.events) == 4, outcome.events


async def test_no_order_lost(outcome: Outcome):
    check_none_lost(outcome)


async def test_no_order_doubled(outcome: Outcome):
    check_none_doubled(outcome)


async def test_each_mail_once(outcome: Outcome):
    check_each_mail_once(outcome)


async def test_nothing_parked_and_every_replica_ready(outcome: Outcome):
    check_nothing_parked_and_every_replica_ready(outcome)
