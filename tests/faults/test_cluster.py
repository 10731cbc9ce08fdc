"""The same run against a three-node RabbitMQ cluster on this machine (three private nodes
with their own names and ports, clustered with ``join_cluster``): the services get every
node's address (``AMQP_URL`` comma-separated, ``shared.messaging.nodes``), their quorum
queues are replicated on all three, and one node is stopped mid-run (the first, where
every connection starts): 0 lost, 0 doubled, and the shop keeps taking orders while it is
down. Then it comes back and rejoins."""

from __future__ import annotations

import asyncio

import pytest

from tests.faults.brokers import Node
from tests.faults.orders import Ledger, reached
from tests.faults.scenario import ORDERS, EveryOrderOnce, Outcome, run_with_faults
from tests.faults.shop import FaultShop

pytestmark = pytest.mark.asyncio(loop_scope="session")

NODES = 3  # the conftest's ``nodes`` fixture starts and clusters this many


@pytest.fixture(scope="module")
async def outcome(shop: FaultShop, nodes: list[Node]) -> Outcome:
    down, asking = nodes[0], nodes[1]

    async def faults(ledger: Ledger, events: list[str]) -> None:
        await reached(ledger, ORDERS * 0.3)
        await asyncio.to_thread(down.stop)
        events.append(f"stopped {down.name}")
        taken = len(ledger.placed)
        # Orders go on being taken while the node is away (unless all were, already).
        wanted = min(ORDERS, taken + max(1, int(ORDERS * 0.1)))
        while len(ledger.placed) < wanted:
            await asyncio.sleep(0.05)
        events.append(f"orders taken while it was down: {len(ledger.placed) - taken}")
        await asyncio.to_thread(down.start)
        events.append(f"started {down.name} again")

    result = await run_with_faults(shop, faults, asking.queues)
    result.figures["taken_while_down"] = float(result.events[1].rsplit(" ", 1)[1])
    return result


async def test_the_shop_kept_taking_orders_with_a_node_down(outcome: Outcome):
    assert len(outcome.events) == 3, outcome.events
    assert outcome.figures["taken_while_down"] > 0


async def test_quorum_queues_replicated_on_every_node(outcome: Outcome, nodes: list[Node]):
    names = {node.name for node in nodes}
    members = {name: set(q[2:]) for name, q in outcome.queues_before.items()}
    assert members and all(kind == "quorum" for kind, *_ in outcome.queues_before.values())
    assert {name: m for name, m in members.items() if m != names} == {}


class TestClusterNodeDown(EveryOrderOnce):
    pass
