"""Events through the real broker become mail in the real SMTP sink, with no PD at rest."""

from __future__ import annotations

import asyncio
import io
import json
from uuid import UUID, uuid4

import aio_pika
import aiohttp
import asyncpg
import pytest

from deploy.smtp_sink import ReceivedMail
from shared.contracts import CustomerRegistered, Money, OrderDelivered, OrderDispatched
from shared.messaging import replay_dead
from tests.notifications.conftest import (
    INTERNAL_TOKEN,
    QUEUE,
    Mailing,
    Person,
    StartMailing,
    all_table_text,
    assert_nothing_personal_kept,
    eventually,
    queue_depth,
    sent_rows,
    to,
)

SUBJECTS = {"ru": "доставлен", "kk": "жеткізілді", "en": "has been delivered"}
GREETINGS = {"ru": "Здравствуйте", "kk": "Сәлеметсіз бе", "en": "Hello"}


def delivered(customer_id: UUID, order_ref: str, amount: int = 1234550) -> OrderDelivered:
    return OrderDelivered(
        order_id=uuid4(),
        order_ref=order_ref,
        customer_id=customer_id,
        status="delivered",
        total=Money(amount=amount),
    )


async def parked(mailing: Mailing, reason: str) -> None:
    """Wait until the message is in the dead queue; its delivery row failed for ``reason``."""
    await eventually(lambda: queue_depth(mailing.amqp_url, f"{QUEUE}.dead"), timeout=10)
    [row] = await sent_rows(mailing.dsn, "failed")
    assert row["reason"] == reason


async def at_least(dsn: str, count: int) -> bool:
    return len(await sent_rows(dsn)) >= count


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_order_delivered_mail_in_customer_locale(
    locale: str,
    mailing: Mailing,
    captured_logs: io.StringIO,
) -> None:
    person = Person(email=f"aigerim.{locale}@mail.kz", first_name="Айгерим", locale=locale)
    customer_id = mailing.stub.add(person)

    await mailing.publish(delivered(customer_id, "SH-1001"))
    mail: ReceivedMail = await mailing.sink.wait_for(to(person.email), timeout=10)

    assert mail.rcpt_tos == (person.email,)
    assert SUBJECTS[locale] in mail.subject and "SH-1001" in mail.subject
    text = mail.body()
    assert text.startswith(f"{GREETINGS[locale]}, Айгерим!")
    assert "12 345,50 ₸" in text and "SH-1001" in text
    assert "Айгерим" in mail.body("html")
    assert mail.message["Content-Language"] == locale
    assert mailing.stub.calls == [
        {
            "customer_id": str(customer_id),
            "purpose": "service_communication",
            "recipient": "notifications",
            "channel": "email",
            "order_ref": "SH-1001",
        }
    ]
    [row] = await eventually(lambda: sent_rows(mailing.dsn))
    assert (row["kind"], row["locale"], row["order_ref"]) == ("order_delivered", locale, "SH-1001")
    await assert_nothing_personal_kept(mailing.dsn, customer_id, person, captured_logs)


async def test_welcome_mail_on_registration(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="dauren@mail.kz", first_name="Dauren", locale="en"))
    event = CustomerRegistered(
        customer_id=customer_id,
        locale="en",
        policy_version="2024-01",
        marketing_email=False,
        marketing_sms=False,
    )
    await mailing.publish(event)
    mail = await mailing.sink.wait_for(to("dauren@mail.kz"), timeout=10)
    assert mail.subject == "Welcome to our shop"
    assert mailing.stub.calls[0]["order_ref"] is None
    [row] = await eventually(lambda: sent_rows(mailing.dsn))
    assert (row["kind"], row["template"], row["order_ref"]) == ("welcome", "welcome", None)


async def test_same_event_twice_sends_one_mail(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="zhanna@mail.kz", first_name="Zhanna"))
    event = delivered(customer_id, "SH-2002")
    message_id = await mailing.publish(event)
    await mailing.sink.wait_for(to("zhanna@mail.kz"), timeout=10)
    await eventually(lambda: sent_rows(mailing.dsn))

    await mailing.publish(event, message_id=message_id)  # redelivery
    await mailing.publish(event)  # the same event under a new message id
    # A later event for another order shows that the queue moved past both copies.
    await mailing.publish(delivered(customer_id, "SH-2003"))
    await mailing.sink.wait_for(lambda m: "SH-2003" in m.subject, timeout=10)
    await asyncio.sleep(0.3)

    assert len([m for m in mailing.sink.messages if "SH-2002" in m.subject]) == 1
    assert len(await sent_rows(mailing.dsn)) == 2
    assert len(mailing.stub.calls) == 2  # no release for the copies
    assert await queue_depth(mailing.amqp_url, f"{QUEUE}.dead") == 0


async def test_one_smtp_session_carries_many_mails(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="regular@mail.kz", first_name="Regular"))
    for n in range(4):
        await mailing.publish(delivered(customer_id, f"SH-30{n}"))
        await mailing.sink.wait_for(lambda m, n=n: f"SH-30{n}" in m.subject, timeout=10)
    assert len(mailing.sink.messages) == 4
    assert mailing.sink.sessions_opened == 1


async def test_session_the_server_hung_up_on_is_replaced_without_a_retry(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="idle@mail.kz", first_name="Idle"))
    await mailing.publish(delivered(customer_id, "SH-3101"))
    await mailing.sink.wait_for(lambda m: "SH-3101" in m.subject, timeout=10)

    mailing.sink.close_sessions()  # as a server does with a client idle for too long
    await mailing.publish(delivered(customer_id, "SH-3102"))
    await mailing.sink.wait_for(lambda m: "SH-3102" in m.subject, timeout=10)

    assert mailing.sink.sessions_opened == 2
    assert len(mailing.stub.calls) == 2  # one release per mail: the second was not retried
    await eventually(lambda: at_least(mailing.dsn, 2))
    assert len(await sent_rows(mailing.dsn)) == 2
    assert await sent_rows(mailing.dsn, "failed") == []


async def test_internationalised_address_gets_its_mail(
    mailing: Mailing,
) -> None:
    address = "айгерим@почта.kz"
    customer_id = mailing.stub.add(Person(email=address, first_name="Айгерим"))
    await mailing.publish(delivered(customer_id, "SH-3201"))
    mail = await mailing.sink.wait_for(to(address), timeout=10)
    assert mail.rcpt_tos == (address,)
    assert mail.to == address  # UTF-8 in the header (RFC 6532), not an encoded word
    assert "SH-3201" in mail.subject and mail.body().startswith("Здравствуйте, Айгерим!")


@pytest.mark.parametrize(("answer", "reason"), [(None, "unknown_or_erased"), (409, "blocked")])
async def test_refused_release_is_skipped_and_acked(
    answer: int | None,
    reason: str,
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(answer) if answer else uuid4()
    await mailing.publish(delivered(customer_id, "SH-3003"))
    [row] = await eventually(lambda: sent_rows(mailing.dsn, "skipped"))
    assert (row["reason"], row["locale"], row["release_id"]) == (reason, None, None)
    assert len(mailing.stub.calls) == 1  # not retried
    await asyncio.sleep(0.3)
    assert mailing.sink.messages == []
    for queue in (QUEUE, f"{QUEUE}.dead", f"{QUEUE}.retry.0", f"{QUEUE}.retry.1"):
        assert await queue_depth(mailing.amqp_url, queue) == 0


async def test_recipient_refused_for_good_is_failed_not_retried(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="nobody@mail.kz", first_name="Nobody"))
    mailing.sink.refuse_recipients = "550 5.1.1 No such user"
    await mailing.publish(delivered(customer_id, "SH-4004"))
    [row] = await eventually(lambda: sent_rows(mailing.dsn, "failed"))
    assert (row["reason"], row["locale"]) == ("recipient_refused", "ru")
    assert len(mailing.stub.calls) == 1
    assert mailing.sink.messages == []
    assert await queue_depth(mailing.amqp_url, f"{QUEUE}.dead") == 0
    # A hard bounce: the contact is suppressed, here and (the event) at customers.
    conn = await asyncpg.connect(mailing.dsn)
    try:
        kept = await conn.fetch("SELECT customer_id, channel, reason FROM suppressions")
        events = await conn.fetch(
            "SELECT body FROM outbox WHERE message_type = 'notifications.contact.suppressed'"
        )
    finally:
        await conn.close()
    assert [tuple(r) for r in kept] == [(customer_id, "email", "hard_bounce")]
    [event] = [json.loads(bytes(r["body"])) for r in events]
    assert (event["customer_id"], event["channel"]) == (str(customer_id), "email")
    assert event["reason"] == "hard_bounce"
    assert "nobody@mail.kz" not in await all_table_text(mailing.dsn)


async def test_a_mail_server_that_stays_down_uses_the_channels_retries(
    start_mailing: StartMailing,
) -> None:
    """EMAIL_SEND_RETRIES=1 over three tiers: two tries, then failed and parked at once."""
    mailing = await start_mailing(retry_delays_ms=(50, 100, 150), email_send_retries=1)
    customer_id = mailing.stub.add(Person(email="down@mail.kz", first_name="Down"))
    await mailing.sink.stop()
    await mailing.publish(delivered(customer_id, "SH-4114"))
    await parked(mailing, "smtp_unavailable")
    for tier in (f"{QUEUE}.retry.1", f"{QUEUE}.retry.2"):
        assert await queue_depth(mailing.amqp_url, tier) == 0


async def test_smtp_down_parks_then_replay_delivers(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="later@mail.kz", first_name="Later"))
    await mailing.sink.stop()

    await mailing.publish(delivered(customer_id, "SH-5005"))
    await parked(mailing, "smtp_unavailable")
    assert mailing.stub.calls == []  # no release while the mail server is away

    await mailing.sink.start()
    connection = await aio_pika.connect_robust(mailing.amqp_url)
    async with connection:
        assert await replay_dead(connection, QUEUE) == 1
    mail = await mailing.sink.wait_for(to("later@mail.kz"), timeout=10)
    assert "SH-5005" in mail.subject
    assert len(await eventually(lambda: sent_rows(mailing.dsn))) == 1
    assert len(mailing.stub.calls) == 1


async def test_smtp_back_during_retries_delivers(
    start_mailing: StartMailing,
) -> None:
    mailing = await start_mailing(retry_delays_ms=(300, 600, 1200, 2400))
    customer_id = mailing.stub.add(Person(email="retry@mail.kz", first_name="Retry"))
    await mailing.sink.stop()
    await mailing.publish(delivered(customer_id, "SH-6006"))
    await asyncio.sleep(0.5)
    assert mailing.sink.messages == []
    await mailing.sink.start()
    await mailing.sink.wait_for(to("retry@mail.kz"), timeout=10)
    assert len(await eventually(lambda: sent_rows(mailing.dsn))) == 1
    assert await sent_rows(mailing.dsn, "failed") == []
    assert await queue_depth(mailing.amqp_url, f"{QUEUE}.dead") == 0


async def test_customers_unavailable_is_retried_then_parked(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(503)
    await mailing.publish(delivered(customer_id, "SH-7007"))
    await parked(mailing, "release_failed")
    assert len(mailing.stub.calls) == 3  # the first try and two retries
    assert mailing.sink.messages == []


async def test_export_lists_the_delivery_log(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="export@mail.kz", first_name="Export", locale="kk"))
    await mailing.publish(delivered(customer_id, "SH-8008"))
    dispatched = OrderDispatched(
        order_id=uuid4(),
        order_ref="SH-8009",
        customer_id=customer_id,
        status="dispatched",
        total=Money(amount=100),
    )
    await mailing.publish(dispatched)
    await eventually(lambda: at_least(mailing.dsn, 2))

    exports = f"{mailing.url}/internal/customers"
    url = f"{exports}/{customer_id}/export"
    async with aiohttp.ClientSession() as http:
        async with http.get(url) as resp:
            assert resp.status == 403
        headers = {"X-Internal-Token": INTERNAL_TOKEN}
        async with http.get(url, headers=headers) as resp:
            assert resp.status == 200
            body = await resp.json()
        async with http.get(f"{exports}/nope/export", headers=headers) as resp:
            assert resp.status == 422
            assert resp.content_type == "application/problem+json"
        async with http.get(f"{exports}/{uuid4()}/export", headers=headers) as r:
            assert (await r.json()) == {"notifications": []}

    items = sorted(body["notifications"], key=lambda item: item["order_ref"])
    assert [(i["kind"], i["order_ref"], i["status"]) for i in items] == [
        ("order_delivered", "SH-8008", "sent"),
        ("order_dispatched", "SH-8009", "sent"),
    ]
    assert set(items[0]) == {
        *("kind", "channel", "template", "locale", "status", "reason", "order_ref"),
        *("reference", "release_id", "at"),
    }
    assert items[0]["channel"] == "email" and items[0]["locale"] == "kk"
    assert items[0]["reason"] is None and items[0]["release_id"] is not None
    assert "export@mail.kz" not in str(body) and "Export" not in str(body)
