"""RabbitMQ restarts in the middle of a campaign: the campaign is driven by the database, so
it goes on while the broker is away and after it is back, and every consented customer gets
exactly one message: no duplicate, no gap. The shop's parts run against a RabbitMQ node of
this module's own (as tests/e2e/test_broker_restart.py does), so the restart disturbs no one
else on the shared broker."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from tests import infra
from tests.e2e.test_broker_restart import Broker, amqp_records_not_kept, private_node
from tests.notifications.campaign_shop import CampaignShop
from tests.notifications.test_campaigns import assert_each_once, sign_up_many


@pytest.fixture
def broker(servers: infra.Servers) -> Iterator[Broker]:
    ctl = servers.rabbitmqctl
    if ctl and ctl[0] == "docker":  # the run's own container: restarting it harms no one
        yield Broker(ctl, servers.amqp_url)
        return
    with private_node() as node:
        yield node


@pytest.fixture
def campaign_amqp_url(broker: Broker) -> Iterator[str]:
    """The shop of these tests talks to a vhost on the module's own node."""
    vhost = f"campaign-{infra.run_token()}"
    infra.create_vhost(broker.ctl, vhost)
    try:
        yield infra.amqp_with_vhost(broker.amqp_url, vhost)
    finally:
        infra.delete_vhost(broker.ctl, vhost)


async def test_a_broker_restart_mid_campaign_neither_repeats_nor_skips(
    shop: CampaignShop, broker: Broker
) -> None:
    consented = await sign_up_many(shop, consented=12, not_consented=2)
    shop.sink.gate.clear()  # the first message waits at the mail server while the broker goes
    shop.sink.delay = 0.05
    await shop.start(campaign_concurrency=1, campaign_batch_size=2)
    created = await shop.create()
    await shop.wait_claimed(created["id"])

    with amqp_records_not_kept():
        await asyncio.to_thread(broker.stop_app)
        try:
            shop.sink.gate.set()
            # The broker is away; the campaign goes on (its state is in PostgreSQL).
            await shop.sink.wait_for(lambda _m: len(shop.sink.messages) >= 3, timeout=20)
        finally:
            await asyncio.to_thread(broker.start_app)
        done = await shop.wait_status(created["id"], "completed", timeout=60)

    assert_each_once(shop, consented)
    assert (done["sent"], done["failed"]) == (len(consented), 0)
