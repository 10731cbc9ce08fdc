"""A new privacy-policy version (policy 5.8) is told to every active customer, once: the
contacts come a page at a time from customers' contact batches, the walk survives a restart
and a redelivered event, and no address or name stays behind."""

from __future__ import annotations

import asyncio
import io
from collections import Counter
from datetime import date
from uuid import UUID

from deploy.smtp_sink import SmtpSink
from services.notifications.app import create_app
from shared.contracts import PolicyPublished
from shared.service import running_app
from tests.conftest import MakeDatabase
from tests.notifications.conftest import (
    CustomersStub,
    Person,
    SettingsFor,
    all_table_text,
    deliveries,
    eventually,
    publish,
)
from tests.shared.messaging_helpers import handled

POLICY = PolicyPublished(version="2026-12-15", effective_date=date(2026, 12, 15))
SUBJECTS = {
    "ru": "Новая редакция политики конфиденциальности",
    "kk": "Құпиялылық саясатының жаңа редакциясы",
    "en": "A new version of our privacy policy",
}
LINES = {
    "ru": "Она действует с 15.12.2026.",
    "kk": "Ол 15.12.2026 бастап әрекет етеді.",
    "en": "It applies from 15.12.2026.",
}
LOCALES = ("ru", "kk", "en")


def people(stub: CustomersStub, count: int) -> dict[UUID, Person]:
    added: dict[UUID, Person] = {}
    for n in range(count):
        person = Person(f"client{n}@mail.kz", f"Имя{n:02d}", LOCALES[n % 3])
        added[stub.add(person)] = person
    return added


async def at_least(count: int, items: list[object]) -> bool:
    return len(items) >= count


async def sent_count(dsn: str) -> int:
    return sum(1 for row in await deliveries(dsn) if row["status"] == "sent")


async def test_every_active_customer_is_told_once_across_a_restart(
    make_database: MakeDatabase,
    settings_for: SettingsFor,
    customers: tuple[CustomersStub, str],
    sink: SmtpSink,
    captured_logs: io.StringIO,
) -> None:
    stub, _ = customers
    told = people(stub, 25)
    stub.add(409)  # blocked (or erased): customers leaves them out of the batches
    stub.pages_before_failing = 1  # the first run gets one page, then customers goes away
    dsn = await make_database("notifications")
    settings = settings_for(dsn, policy_notice_batch=10, policy_notice_interval_s=0.1)

    async with running_app(create_app(settings)):
        await publish(settings.amqp_url, POLICY)
        await eventually(lambda: sent_count(dsn))
        await eventually(lambda: at_least(3, stub.batch_calls))  # it tried again, and failed
    first_page = [i for i in sorted(stub.people)[:10] if i in told]  # the refused one may be in it
    assert sorted(m.rcpt_tos[0] for m in sink.messages) == sorted(told[i].email for i in first_page)
    stub.pages_before_failing = None

    async with running_app(create_app(settings)):
        await handled(dsn, await publish(settings.amqp_url, POLICY))  # published again
        await eventually(lambda: at_least(25, sink.messages))
        await asyncio.sleep(0.5)  # a further round would show here

    received = Counter(mail.rcpt_tos[0] for mail in sink.messages)
    assert received == Counter({person.email: 1 for person in told.values()})
    notice_ids = {call["reference"] for call in stub.batch_calls}
    assert len(notice_ids) == 1  # every page names the one notice
    assert {(c["purpose"], c["channel"], c["limit"]) for c in stub.batch_calls} == {
        ("service_communication", "email", 10)
    }
    resumed = [c for c in stub.batch_calls if c["after"] is not None]
    assert resumed[0]["after"] == str(first_page[-1])  # the restart went on, not over
    rows = await deliveries(dsn)
    assert {(r["kind"], r["status"], r["reference"]) for r in rows} == {
        ("policy_published", "sent", "2026-12-15")
    }
    assert {r["customer_id"] for r in rows} == set(told)

    stored = await all_table_text(dsn)
    for person in told.values():
        assert person.email not in stored and person.email not in captured_logs.getvalue()
        assert person.first_name not in stored and person.first_name not in captured_logs.getvalue()


async def test_the_notice_reads_in_each_customers_language(
    make_database: MakeDatabase,
    settings_for: SettingsFor,
    customers: tuple[CustomersStub, str],
    sink: SmtpSink,
) -> None:
    stub, _ = customers
    told = people(stub, 3)
    dsn = await make_database("notifications")
    settings = settings_for(dsn, policy_notice_interval_s=0.1)
    async with running_app(create_app(settings)):
        await publish(settings.amqp_url, POLICY)
        await eventually(lambda: at_least(3, sink.messages))

    by_address = {mail.rcpt_tos[0]: mail for mail in sink.messages}
    for person in told.values():
        mail = by_address[person.email]
        assert mail.subject == SUBJECTS[person.locale]
        assert mail.message["Content-Language"] == person.locale
        text = mail.body()
        assert person.first_name in text and "(2026-12-15)" in text
        assert LINES[person.locale] in text
        assert "http://localhost:8080/account/policy" in text
