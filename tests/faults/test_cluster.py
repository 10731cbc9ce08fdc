"""The same run against a three-node RabbitMQ cluster on this machine (three private nodes
with their own names and ports, clustered with ``join_cluster``): the services get every
node's address (``AMQP_URL`` comma-separated, ``shared.messaging.nodes``), their quorum
queues are replicated on all three, and one node is stopped mid-run (the first, where
every connection starts): 0 lost, 0 doubled, and the shop keeps taking orders while it is
down. Then it comes back and rejoins."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator

import pytest

from tests import infra
from tests.faults.brokers import Node, cluster_url, private_nodes
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
from tests.faults.shop import FaultShop, fault_shop

pytestmark = pytest.mark.asyncio(loop_scope="session")

NODES = 3


@pytest.fixture(scope="module")
def nodes() -> Iterator[list[Node]]:
    with private_nodes(NODES) as started:
        yield started


@pytest.fixture(scope="module")
async def shop(
    servers: infra.Servers, nodes: list[Node], fault_logs, tmp_path_factory
) -> AsyncIterator[FaultShop]:
    workdir = tmp_path_factory.mktemp("cluster")
    async with fault_shop(servers, cluster_url(nodes), workdir) as shop:
        yield shop


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


async def test_no_order_lost(outcome: Outcome):
    check_none_lost(outcome)


async def test_no_order_doubled(outcome: Outcome):
    check_none_doubled(outcome)


async def test_each_mail_once(outcome: Outcome):
    check_each_mail_once(outcome)


async def test_nothing_parked_and_every_replica_ready(outcome: Outcome):
    check_nothing_parked_and_every_replica_ready(outcome)
