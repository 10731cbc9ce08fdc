"""Every transactional event becomes one mail in the customer's language, in the real SMTP
sink: order placed, awaiting payment (with the bank's page), paid, failed, refunded, and the
confirmations of a block and its end. Sent once however often the event comes; nothing
personal left in the database or the logs."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared.contracts import (
    Contract,
    CustomerBlocked,
    CustomerUnblocked,
    Money,
    OrderAwaitingPayment,
    OrderFailed,
    OrderLine,
    OrderPaid,
    OrderPlaced,
    PaymentRefunded,
)
from tests.notifications.conftest import (
    Mailing,
    Person,
    assert_nothing_personal_kept,
    deliveries,
    eventually,
    sent_rows,
    to,
)
from tests.shared.messaging_helpers import handled

PAY_URL = "http://bank.example/pay/4f3c1a52-0d9e-4c55-9a43-1c2b3d4e5f60"
PLACED_AT = datetime(2026, 11, 20, 9, 30, tzinfo=UTC)
BLOCKED_AT = datetime(2026, 11, 25, 20, 30, tzinfo=UTC)  # 26.11 in Almaty


def order_event(contract: type[Contract], ref: str, customer_id: UUID, **fields: Any) -> Contract:
    """``contract`` for the order ``ref`` of 12 345,50 ₸ placed at ``PLACED_AT``."""
    return contract(
        order_id=uuid4(),
        order_ref=ref,
        customer_id=customer_id,
        total=Money(amount=1234550),
        placed_at=PLACED_AT,
        **fields,
    )


def placed(customer_id: UUID) -> Contract:
    lines = (OrderLine(product_id=uuid4(), quantity=2),)
    return order_event(
        OrderPlaced, "SH-3001", customer_id, lines=lines, payment_method="card", courier="kazpost"
    )


def awaiting_payment(customer_id: UUID) -> Contract:
    return order_event(
        OrderAwaitingPayment,
        "SH-3002",
        customer_id,
        status="awaiting_payment",
        payment_url=PAY_URL,
    )


def paid(customer_id: UUID) -> Contract:
    return order_event(OrderPaid, "SH-3003", customer_id, status="paid")


def failed(customer_id: UUID) -> Contract:
    return order_event(OrderFailed, "SH-3004", customer_id, status="failed")


def refunded(customer_id: UUID | None) -> Contract:
    return PaymentRefunded(
        payment_id=uuid4(),
        order_id=uuid4(),
        order_ref="SH-3005",
        status="refunded",
        amount=Money(amount=1234550),
        customer_id=customer_id,
        placed_at=PLACED_AT,
    )


def blocked(customer_id: UUID, version: int = 1) -> Contract:
    return CustomerBlocked(customer_id=customer_id, version=version, at=BLOCKED_AT)


def unblocked(customer_id: UUID, version: int = 2) -> Contract:
    return CustomerUnblocked(customer_id=customer_id, version=version, at=BLOCKED_AT)


@dataclass(frozen=True)
class Case:
    event: Callable[[UUID], Contract]
    kind: str
    locale: str
    subject: str
    body: tuple[str, ...]


CASES = [
    Case(placed, "order_placed", "ru", "Заказ SH-3001 оформлен", ("ссылка на оплату картой",)),
    Case(
        awaiting_payment,
        "order_awaiting_payment",
        "kk",
        "SH-3002 тапсырысын төлеңіз",
        (f"Банк бетінде төлеу: {PAY_URL}", "Төленетін сома: 12 345,50 ₸"),
    ),
    Case(paid, "order_paid", "en", "Order SH-3003 has been paid", ("Status: paid",)),
    Case(failed, "order_failed", "ru", "Заказ SH-3004 не выполнен", ("Статус: не выполнен",)),
    Case(
        refunded,
        "order_refunded",
        "kk",
        "SH-3005 тапсырысының ақшасы қайтарылды",
        ("Қайтарылған сома: 12 345,50 ₸",),
    ),
    Case(
        blocked,
        "customer_blocked",
        "en",
        "Processing of your data is stopped",
        ("stopped (blocked) since 26.11.2026",),
    ),
    Case(
        unblocked,
        "customer_unblocked",
        "ru",
        "Обработка ваших данных возобновлена",
        ("С 26.11.2026 блокирование снято",),
    ),
]
GREETINGS = {
    "ru": "Здравствуйте, Айгерим!",
    "kk": "Сәлеметсіз бе, Айгерим!",
    "en": "Hello, Айгерим!",
}


@pytest.mark.parametrize("case", CASES, ids=[case.kind for case in CASES])
async def test_each_event_is_one_mail_in_the_customers_language(
    case: Case,
    mailing: Mailing,
    captured_logs: io.StringIO,
) -> None:
    person = Person(email=f"aigerim.{case.kind}@mail.kz", first_name="Айгерим", locale=case.locale)
    customer_id = mailing.stub.add(person)

    event = case.event(customer_id)
    await mailing.publish(event)
    mail = await mailing.sink.wait_for(to(person.email), timeout=10)

    assert mail.subject == case.subject
    assert mail.message["Content-Language"] == case.locale
    text = mail.body()
    assert text.startswith(GREETINGS[case.locale])
    for part in case.body:
        assert part in text
    assert "http://localhost:8080/account/" in text
    if case.kind.startswith("order_"):  # the storefront's page of that order
        assert f"http://localhost:8080/orders/{event.order_id}" in text
    else:
        assert "/orders/" not in text
    assert case.body[0].split(": ")[-1] in mail.body("html")
    [row] = await eventually(lambda: sent_rows(mailing.dsn))
    assert (row["kind"], row["template"], row["locale"]) == (case.kind, case.kind, case.locale)
    await assert_nothing_personal_kept(mailing.dsn, customer_id, person, captured_logs)


async def test_the_payment_link_is_the_banks_page_and_the_release_names_the_order(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="pay@mail.kz", first_name="Ерлан", locale="ru"))
    await mailing.publish(awaiting_payment(customer_id))
    mail = await mailing.sink.wait_for(to("pay@mail.kz"), timeout=10)
    assert f"Оплатить на странице банка: {PAY_URL}" in mail.body()
    assert f"{PAY_URL}" in mail.body("html")
    [call] = mailing.stub.calls
    assert call["order_ref"] == "SH-3002"
    assert datetime.fromisoformat(call["order_placed_at"]) == PLACED_AT


async def test_a_redelivered_or_repeated_event_sends_nothing_twice(
    mailing: Mailing,
) -> None:
    customer_id = mailing.stub.add(Person(email="twice@mail.kz", first_name="Жанна"))
    events = [refunded(customer_id), blocked(customer_id, 1), awaiting_payment(customer_id)]
    for event in events:
        message_id = await mailing.publish(event)
        await handled(mailing.dsn, message_id)
        await mailing.publish(event, message_id=message_id)  # redelivery
        await handled(mailing.dsn, await mailing.publish(event))  # a new message id
    # A later block (a new version) is a new confirmation: the queue moved past the copies.
    await mailing.publish(unblocked(customer_id, 2))
    await mailing.sink.wait_for(lambda m: "возобновлена" in m.subject, timeout=10)
    await asyncio.sleep(0.3)

    subjects = sorted(m.subject for m in mailing.sink.messages)
    assert len(subjects) == 4 and len(set(subjects)) == 4
    kinds = sorted(str(row["kind"]) for row in await sent_rows(mailing.dsn))
    assert kinds == [
        "customer_blocked",
        "customer_unblocked",
        "order_awaiting_payment",
        "order_refunded",
    ]
    assert len(mailing.stub.calls) == 4  # no release asked for a copy


async def test_a_blocked_customer_gets_only_what_is_owed(
    mailing: Mailing,
) -> None:
    """The block's own confirmation (the release says for which notice) and the mail of an
    order, which customers releases only when placed before the block; not a stale block."""
    customer_id = mailing.stub.add(Person(email="owed@mail.kz", first_name="Асель", locale="en"))
    await mailing.publish(blocked(customer_id, 3))
    await mailing.sink.wait_for(lambda m: "stopped" in m.subject, timeout=10)
    await handled(mailing.dsn, await mailing.publish(unblocked(customer_id, 2)))
    await mailing.publish(paid(customer_id))
    await mailing.sink.wait_for(lambda m: "SH-3003" in m.subject, timeout=10)

    block_call, order_call = mailing.stub.calls
    assert block_call["notice"] == "block_confirmation" and block_call["order_ref"] is None
    assert "notice" not in order_call
    assert datetime.fromisoformat(order_call["order_placed_at"]) == PLACED_AT
    assert len(mailing.sink.messages) == 2  # the stale unblock (version 2 < 3) confirmed nothing
    rows = await deliveries(mailing.dsn)
    assert sorted((r["kind"], r["reference"]) for r in rows) == [
        ("customer_blocked", "v3"),
        ("order_paid", None),
    ]


async def test_a_refund_that_names_no_customer_sends_and_logs_nothing(
    mailing: Mailing,
) -> None:
    await handled(mailing.dsn, await mailing.publish(refunded(None)))
    assert mailing.stub.calls == [] and mailing.sink.messages == []
    assert await deliveries(mailing.dsn) == []


async def test_a_block_placed_before_this_order_is_still_told_its_date(
    mailing: Mailing,
) -> None:
    """The block's date is the day in Almaty, not in UTC (20:30 UTC is the next day there)."""
    customer_id = mailing.stub.add(Person(email="date@mail.kz", first_name="Асель", locale="kk"))
    late = CustomerBlocked(
        customer_id=customer_id, version=1, at=BLOCKED_AT - timedelta(hours=2)
    )  # 18:30 UTC: 23:30 in Almaty, still the 25th
    await mailing.publish(late)
    mail = await mailing.sink.wait_for(to("date@mail.kz"), timeout=10)
    assert "25.11.2026 бастап" in mail.body()


async def test_a_mail_sent_but_not_recorded_goes_again_as_the_same_message(
    mailing: Mailing, monkeypatch: pytest.MonkeyPatch
) -> None:
    """SMTP has no exactly-once: when the delivery is not recorded after the server took
    the mail (here the first record fails; in life the process dies), the event comes back
    and the mail is sent again, and then with the same Message-ID: one message, twice."""
    from services.notifications import storage

    customer_id = mailing.stub.add(Person(email="again@mail.kz", first_name="Ерлан"))
    record, failures = storage.record_delivery, []

    async def record_once_failing(conn: Any, delivery: Any) -> None:
        if not failures:
            failures.append(delivery.notification_id)
            raise ConnectionResetError("the process died here")
        await record(conn, delivery)

    monkeypatch.setattr(storage, "record_delivery", record_once_failing)
    await handled(mailing.dsn, await mailing.publish(paid(customer_id)))

    mails = [m for m in mailing.sink.messages if "SH-3003" in m.subject]
    assert len(mails) == 2
    assert len({m.message["Message-ID"] for m in mails}) == 1
    [row] = await sent_rows(mailing.dsn)
    assert row["notification_id"] == failures[0]
    assert str(row["notification_id"]) in mails[0].message["Message-ID"]
