"""Marketing campaigns end to end on the real customers service and the real SMTP sink:
exactly the consented customers receive one email each, in their language, with the RFC 8058
headers and a visible unsubscribe link; a pause holds it, a resume goes on from the cursor, a
consent withdrawn or a block made meanwhile keeps that customer out; the marketer's routes
need the marketer's role; nothing about a person stays in the notifications database or the
logs."""

from __future__ import annotations

import asyncio
import io
import re
from datetime import UTC, datetime, timedelta
from uuid import UUID

from services.notifications.domain import format_tenge
from services.notifications.unsubscribe_links import read_token
from tests.notifications.campaign_shop import (
    UNSUBSCRIBE_SECRET,
    CampaignShop,
    Person,
)
from tests.notifications.conftest import all_table_text

SUBJECTS = {"ru": "скидка 15%", "kk": "15% жеңілдік", "en": "15% off"}
UNSUBSCRIBE_LINE = {
    "ru": "Отписаться в один клик:",
    "kk": "Бір басумен жазылымнан бас тарту:",
    "en": "Unsubscribe in one click:",
}


async def sign_up_many(shop: CampaignShop, consented: int, not_consented: int) -> list[Person]:
    locales = ("ru", "kk", "en")
    people = [await shop.sign_up(n, email=True, locale=locales[n % 3]) for n in range(consented)]
    for n in range(consented, consented + not_consented):
        await shop.sign_up(n, email=False, sms=True)
    return people


def assert_each_once(shop: CampaignShop, expected: list[Person]) -> None:
    wanted = {person.email for person in expected}
    for person in shop.people:
        count = len(shop.received(person))
        assert count == (1 if person.email in wanted else 0), (person.email, count)


async def test_consented_customers_get_one_email_each_with_one_click_unsubscribe(
    shop: CampaignShop, captured_logs: io.StringIO
) -> None:
    consented = await sign_up_many(shop, consented=7, not_consented=3)
    await shop.start()

    created = await shop.create()
    assert created["status"] == "scheduled"
    assert len(created["promotion"]["products"]) == 2
    done = await shop.wait_status(created["id"], "completed")

    assert_each_once(shop, consented)
    assert (done["audience"], done["sent"], done["failed"], done["skipped"]) == (7, 7, 0, {})
    for person in consented:
        (mail,) = shop.received(person)
        assert SUBJECTS[person.locale] in mail.subject
        assert mail.message["Content-Language"] == person.locale
        assert mail.message["Precedence"] == "bulk"
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        link = re.fullmatch(r"<(https://\S+)>", str(mail.message["List-Unsubscribe"]).strip())
        assert link, mail.message["List-Unsubscribe"]
        url = link.group(1)
        assert url.startswith("https://shop.example.kz/api/notifications/unsubscribe?token=")
        target = read_token(UNSUBSCRIBE_SECRET, url.split("token=", 1)[1])
        assert (str(target.customer_id), target.channel) == (person.customer_id, "email")
        assert str(target.campaign_id) == created["id"]
        text = mail.body()
        assert f"{UNSUBSCRIBE_LINE[person.locale]}\n{url}" in text
        assert person.first_name in text
        for product in created["promotion"]["products"]:
            price = format_tenge(product["price"]["amount"])
            regular = format_tenge(product["regular_price"]["amount"])
            assert f"{product['name']}: {price} " in text and regular in text
        html = mail.body("html")
        assert f'<a href="{url.replace("&", "&amp;")}">' in html

    # The delivery log: ids and codes; no address, phone or name anywhere at rest or in logs.
    rows = await shop.db_rows(
        "SELECT customer_id, kind, channel, status, campaign_id, attempts FROM deliveries"
    )
    assert sorted(str(r["customer_id"]) for r in rows) == sorted(p.customer_id for p in consented)
    assert {(r["kind"], r["channel"], r["status"], r["attempts"]) for r in rows} == {
        ("campaign", "email", "sent", 1)
    }
    stored = await all_table_text(shop.notifications_dsn)
    logs = captured_logs.getvalue()
    for person in shop.people:
        for value in (person.email, person.phone, person.phone[1:], person.first_name):
            assert value not in stored, value
            assert value not in logs, value


async def test_pause_resume_and_a_withdrawal_or_block_meanwhile(shop: CampaignShop) -> None:
    consented = await sign_up_many(shop, consented=12, not_consented=0)
    shop.sink.gate.clear()  # the first message waits at the mail server until the pause
    await shop.start(campaign_concurrency=1, campaign_batch_size=2)

    created = await shop.create()
    await shop.wait_claimed(created["id"])
    paused = await shop.move(created["id"], "pause")
    assert paused["status"] == "paused"
    await asyncio.sleep(0.3)  # the runner reads the status every 50 ms (campaign_status_poll_s)
    shop.sink.gate.set()
    await shop.wait_idle(created["id"])
    sent_at_pause = sum(len(shop.received(p)) for p in consented)
    assert sent_at_pause == 1  # the one in flight, then nothing
    assert (await shop.campaign(created["id"]))["sent"] == sent_at_pause

    # Two not reached yet: one withdraws the email consent, one is blocked by the officer.
    reached = {p.email for p in consented if shop.received(p)}
    withdrawn, blocked = [p for p in consented if p.email not in reached][-2:]
    status, body = await shop.customers(
        "PUT",
        "/api/customers/me/consents",
        token=withdrawn.token,
        json={"marketing": {"email": False, "sms": False}},
    )
    assert status == 200, body
    status, body = await shop.customers("POST", "/api/customers/me/block", token=blocked.token)
    assert status in (200, 202), body
    assert sum(len(shop.received(p)) for p in consented) == sent_at_pause  # nothing meanwhile

    resumed = await shop.move(created["id"], "resume")
    assert resumed["status"] == "running"
    done = await shop.wait_status(created["id"], "completed")

    expected = [p for p in consented if p not in (withdrawn, blocked)]
    assert_each_once(shop, expected)
    assert done["sent"] == len(expected)


async def test_marketer_routes_need_the_marketer(shop: CampaignShop) -> None:
    customer = await shop.sign_up(1, email=True)
    await shop.start()
    created = await shop.create(scheduled_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    one = f"/api/notifications/campaigns/{created['id']}"
    routes = [
        ("POST", "/api/notifications/campaigns"),
        ("GET", "/api/notifications/campaigns"),
        ("GET", one),
        ("POST", f"{one}/pause"),
        ("POST", f"{one}/resume"),
    ]
    for token, expected in (
        (customer.token, 403),
        (shop.marketer("support"), 403),
        (None, 401),
        ("not.a.token", 401),
    ):
        for method, path in routes:
            status, body = await shop.call(method, path, token=token, json={})
            assert status == expected, (method, path, token, body)
            assert body["status"] == expected


async def test_refusals_are_problems_that_quote_nothing(shop: CampaignShop) -> None:
    await shop.start()
    token = shop.marketer()
    ended = await shop.promotion(end=True)
    unknown = "00000000-0000-4000-8000-000000000000"
    cases = [
        ({"promotion_id": unknown, "channel": "email"}, 422),
        ({"promotion_id": str(ended), "channel": "email"}, 409),
        ({"promotion_id": str(ended), "channel": "sms"}, 409),
        ({"promotion_id": str(ended), "channel": "fax"}, 422),
        ({"promotion_id": "x@example.kz", "channel": "email"}, 422),
        ({"promotion_id": str(ended), "channel": "email", "audience": "all"}, 422),
        ({"promotion_id": str(ended), "channel": "email", "scheduled_at": "tomorrow"}, 422),
    ]
    for body, expected in cases:
        status, answer = await shop.call(
            "POST", "/api/notifications/campaigns", token=token, json=body
        )
        assert status == expected, (body, answer)
        assert "x@example.kz" not in str(answer) and "fax" not in str(answer)
    missing = "/api/notifications/campaigns/00000000-0000-4000-8000-000000000001"
    for method, path, expected in (
        ("GET", missing, 404),
        ("POST", f"{missing}/pause", 404),
        ("GET", "/api/notifications/campaigns/x@example.kz", 404),
        ("GET", "/api/notifications/campaigns?limit=0", 422),
        ("GET", "/api/notifications/campaigns?audience=all", 422),
    ):
        status, answer = await shop.call(method, path, token=token)
        assert status == expected, (path, answer)
        assert "x@example.kz" not in str(answer)

    created = await shop.create(scheduled_at=(datetime.now(UTC) + timedelta(days=1)).isoformat())
    status, answer = await shop.call(
        "POST", f"/api/notifications/campaigns/{created['id']}/resume", token=token
    )
    assert (status, answer["title"]) == (409, "Not possible now")
    status, listing = await shop.call("GET", "/api/notifications/campaigns", token=token)
    assert status == 200 and [item["id"] for item in listing["items"]] == [created["id"]]
    assert UUID(listing["items"][0]["promotion_id"])


async def test_a_promotion_ended_early_cancels_its_campaign(shop: CampaignShop) -> None:
    consented = await sign_up_many(shop, consented=10, not_consented=0)
    shop.sink.delay = 0.1
    await shop.start(campaign_concurrency=1, campaign_batch_size=2)
    created = await shop.create()
    await shop.sink.wait_for(timeout=20)

    status, body = await shop.catalog(
        "PATCH", f"/api/catalog/promotions/{created['promotion_id']}", json={"status": "ended"}
    )
    assert status == 200, body
    cancelled = await shop.wait_status(created["id"], "cancelled")
    await shop.wait_idle(created["id"])
    assert cancelled["ended_reason"] == "promotion_ended"
    sent = len(shop.sink.messages)
    assert sent < len(consented)
    assert (await shop.campaign(created["id"]))["sent"] == sent
    status, answer = await shop.call(
        "POST", f"/api/notifications/campaigns/{created['id']}/resume", token=shop.marketer()
    )
    assert status == 409, answer


async def test_a_campaign_waits_for_its_promotion_to_start(shop: CampaignShop) -> None:
    await shop.start()
    promotion_id = await shop.promotion(starts_in=timedelta(days=2))
    status, created = await shop.call(
        "POST",
        "/api/notifications/campaigns",
        token=shop.marketer(),
        json={"promotion_id": promotion_id, "channel": "email"},
    )
    assert status == 201, created
    assert created["status"] == "scheduled"
    starts = datetime.fromisoformat(created["promotion"]["starts_at"])
    assert datetime.fromisoformat(created["scheduled_at"]) == starts


async def test_a_campaign_made_or_resumed_goes_at_once_not_at_the_next_poll(
    shop: CampaignShop,
) -> None:
    consented = await sign_up_many(shop, consented=4, not_consented=0)
    shop.sink.gate.clear()
    # A poll far longer than the waits below: only the wake-up can start the sending.
    await shop.start(campaign_poll_s=120, campaign_concurrency=1, campaign_batch_size=1)

    created = await shop.create()
    await shop.wait_claimed(created["id"], timeout=10)
    await shop.move(created["id"], "pause")
    await asyncio.sleep(0.3)  # the runner reads the status every 50 ms
    shop.sink.gate.set()
    await shop.wait_idle(created["id"])
    assert (await shop.campaign(created["id"]))["sent"] == 1

    await shop.move(created["id"], "resume")
    done = await shop.wait_status(created["id"], "completed", timeout=10)
    assert done["sent"] == len(consented)
    assert_each_once(shop, consented)
