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

import pytest

from tests.faults.brokers import Node
from tests.faults.orders import Ledger, reached
from tests.faults.scenario import ORDERS, EveryOrderOnce, Outcome, run_with_faults
from tests.faults.shop import FaultShop, kill_and_restart

pytestmark = pytest.mark.asyncio(loop_scope="session")

DOWN_FOR_S = 3.0


async def restart_broker(node: Node, how: str, events: list[str]) -> None:
    started = time.monotonic()
    await asyncio.to_thread(node.stop_app if how == "app" else node.stop)
    await asyncio.sleep(DOWN_FOR_S)
    await asyncio.to_thread(node.start_app if how == "app" else node.start)
    events.append(f"broker {how} restart: back after {time.monotonic() - started:.1f} s")


@pytest.fixture(scope="module")
async def outcome(shop: FaultShop, nodes: list[Node]) -> Outcome:
    node = nodes[0]

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


class TestBrokerRestartsAndKills(EveryOrderOnce):
    pass
