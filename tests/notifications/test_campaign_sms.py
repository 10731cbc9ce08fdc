"""SMS campaigns: a short text with the stop instruction to each customer who consented to
marketing by SMS, through the provider's signed API; none during the quiet hours of the
night, when the campaign shows it is waiting for the window to open."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID
from zoneinfo import ZoneInfo

from services.notifications.quiet_hours import held_until
from tests.notifications.campaign_shop import CampaignShop

ALMATY = "Asia/Almaty"


def window_around_now(quiet: bool) -> dict[str, Any]:
    """Quiet hours that hold now (``quiet``) or that are hours away."""
    local = datetime.now(UTC).astimezone(ZoneInfo(ALMATY))
    if quiet:
        start, end = local - timedelta(hours=1), local + timedelta(hours=2)
    else:
        start, end = local + timedelta(hours=2), local + timedelta(hours=3)
    return {
        "sms_timezone": ALMATY,
        "sms_quiet_start": start.time().replace(second=0, microsecond=0),
        "sms_quiet_end": end.time().replace(second=0, microsecond=0),
    }


async def test_sms_to_the_sms_consented_with_the_stop_instruction(shop: CampaignShop) -> None:
    texted = [await shop.sign_up(n, email=False, sms=True, locale="ru") for n in range(3)]
    refused = await shop.sign_up(3, email=False, sms=True, phone="+77000000001")
    await shop.sign_up(4, email=True, sms=False)
    await shop.start(**window_around_now(quiet=False))

    created = await shop.create("sms")
    done = await shop.wait_status(created["id"], "completed")

    assert (done["audience"], done["sent"], done["failures"]) == (4, 3, {"recipient_refused": 1})
    texts = list(shop.sms.messages.values())
    assert sorted(t["to"] for t in texts) == sorted(p.phone for p in texted)
    for text in texts:
        assert text["text"].endswith("STOP на 7575")
        assert "15%" in text["text"] and len(text["text"]) <= 160
    assert shop.sink.messages == []
    # The number refused for good is suppressed (and customers is told, ContactSuppressed).
    rows = await shop.db_rows("SELECT customer_id, channel, reason FROM suppressions")
    assert [tuple(r) for r in rows] == [(UUID(refused.customer_id), "sms", "provider_rejected")]


async def test_sms_waits_through_the_quiet_hours(shop: CampaignShop) -> None:
    await shop.sign_up(0, email=False, sms=True)
    window = window_around_now(quiet=True)
    await shop.start(**window)

    created = await shop.create("sms")
    async with asyncio.timeout(10):
        while (found := await shop.campaign(created["id"]))["waiting"] is None:
            await asyncio.sleep(0.05)
    assert found["status"] == "running" and found["waiting"]["reason"] == "quiet_hours"
    opens = held_until(
        datetime.now(UTC), ALMATY, window["sms_quiet_start"], window["sms_quiet_end"]
    )
    assert opens is not None
    assert datetime.fromisoformat(found["waiting"]["until"]) == opens
    assert shop.sms.messages == {} and found["sent"] == 0
