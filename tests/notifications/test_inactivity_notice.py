"""Retention's notice to an inactive account becomes a mail in the customer's language that
names the day after which the account is erased."""

from __future__ import annotations

from datetime import date
from uuid import uuid4

import pytest

from deploy.smtp_sink import ReceivedMail
from shared.contracts import CustomerInactivityNotice
from tests.notifications.conftest import (
    Mailing,
    Person,
    deliveries,
    eventually,
)

SUBJECTS = {"ru": "будет удалён", "kk": "жойылады", "en": "will be deleted"}


@pytest.mark.parametrize("locale", ["ru", "kk", "en"])
async def test_inactivity_notice_mail_names_the_erasure_date(
    locale: str,
    mailing: Mailing,
) -> None:
    person = Person(email=f"inactive.{locale}.{uuid4().hex[:6]}@mail.kz", first_name="Ерлан",
                    locale=locale)  # fmt: skip
    customer_id = mailing.stub.add(person)
    event = CustomerInactivityNotice(customer_id=customer_id, erase_after=date(2027, 2, 1))
    await mailing.publish(event)

    mail: ReceivedMail = await mailing.sink.wait_for(
        lambda m: person.email in m.rcpt_tos, timeout=10
    )
    assert SUBJECTS[locale] in mail.subject
    assert "01.02.2027" in mail.body() and "/account/" in mail.body()
    assert mailing.stub.calls[0]["purpose"] == "service_communication"

    async def sent() -> list[dict[str, object]]:
        return [r for r in await deliveries(mailing.dsn) if r["status"] == "sent"]

    [row] = await eventually(sent)
    assert (row["kind"], row["template"], row["locale"]) == (
        "inactivity_notice",
        "inactivity_notice",
        locale,
    )
