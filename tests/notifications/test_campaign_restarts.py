"""A campaign survives its service: stopped mid-campaign (SIGTERM's graceful stop) and started
again on the same database, it goes on from its cursor with no one sent twice and no one
left out; a claim its process never settled (a crash between the send and its record) is
counted failed ``unknown_after_restart`` and not sent again; two replicas at once share
the work through the lease and still send each person one message."""

from __future__ import annotations

import asyncio
from uuid import UUID, uuid4

from tests.notifications.campaign_shop import CampaignShop
from tests.notifications.test_campaigns import assert_each_once, sign_up_many


async def test_service_stopped_mid_campaign_and_started_again(shop: CampaignShop) -> None:
    consented = await sign_up_many(shop, consented=12, not_consented=2)
    shop.sink.gate.clear()  # the first two messages wait at the mail server
    await shop.start(campaign_concurrency=2, campaign_batch_size=4)
    created = await shop.create()
    await shop.wait_claimed(created["id"], 2)

    # As SIGTERM: the two messages in flight finish and are recorded before the app ends.
    stopping = asyncio.create_task(shop.stop())
    await asyncio.sleep(0.3)
    shop.sink.gate.set()
    await stopping
    at_stop = len(shop.sink.messages)
    assert at_stop == 2
    rows = await shop.db_rows("SELECT status FROM deliveries")
    assert {r["status"] for r in rows} == {"sent"} and len(rows) == at_stop
    assert (await shop.db_value("SELECT status FROM campaigns")) == "running"

    await shop.start(campaign_concurrency=2, campaign_batch_size=4)
    done = await shop.wait_status(created["id"], "completed")
    assert_each_once(shop, consented)
    assert (done["sent"], done["failed"]) == (len(consented), 0)


async def test_a_claim_left_unsettled_is_not_sent_again(shop: CampaignShop) -> None:
    consented = await sign_up_many(shop, consented=5, not_consented=0)
    await shop.start()
    created = await shop.create(scheduled_at="2099-01-01T00:00:00+00:00")
    await shop.stop()
    # As a process that died after claiming one recipient leaves it: the claim unsettled,
    # the campaign running under a lease that ran out.
    lost = consented[2]
    conn_id = UUID(created["id"])
    await shop.db_value(
        "UPDATE campaigns SET status = 'running', scheduled_at = now(), started_at = now(),"
        " lease_owner = $2, lease_until = now() - interval '1 second' WHERE id = $1",
        conn_id,
        uuid4(),
    )
    await shop.db_value(
        "INSERT INTO deliveries (notification_id, customer_id, kind, channel, template, status,"
        " message_id, campaign_id) VALUES ($1, $2, 'campaign', 'email', 'campaign', 'sending',"
        " $1, $3)",
        uuid4(),
        UUID(lost.customer_id),
        conn_id,
    )

    await shop.start()
    done = await shop.wait_status(created["id"], "completed")
    assert_each_once(shop, [p for p in consented if p is not lost])
    assert done["failures"] == {"unknown_after_restart": 1}
    assert (done["sent"], done["failed"]) == (4, 1)
    row = await shop.db_rows(
        "SELECT status, reason FROM deliveries WHERE customer_id = $1", UUID(lost.customer_id)
    )
    assert [tuple(r) for r in row] == [("failed", "unknown_after_restart")]


async def test_two_replicas_send_each_message_once(shop: CampaignShop) -> None:
    consented = await sign_up_many(shop, consented=10, not_consented=0)
    shop.sink.delay = 0.02
    await shop.start(campaign_batch_size=2)
    await shop.start(campaign_batch_size=2)
    first, second = await shop.create(), await shop.create()
    for created in (first, second):
        await shop.wait_status(created["id"], "completed")
    for person in consented:
        assert len(shop.received(person)) == 2, person.email
    rows = await shop.db_rows(
        "SELECT campaign_id, count(*) AS n FROM deliveries WHERE status = 'sent'"
        " GROUP BY campaign_id"
    )
    assert sorted(r["n"] for r in rows) == [10, 10]
