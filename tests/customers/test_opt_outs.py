"""Marketing stopped from outside the account: a STOP by SMS (``/internal/sms-stops``), an
unsubscribe link (``MarketingUnsubscribed``), a contact the provider refused for good
(``ContactSuppressed``): each in the consent history or the export, and in the audiences."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from shared.contracts import ContactSuppressed, MarketingUnsubscribed
from tests.customers.conftest import INTERNAL_TOKEN, Shop
from tests.customers.test_audiences import audience, everyone, suppress
from tests.shared.messaging_helpers import handled, publish

INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}


async def sms_stop(shop: Shop, phone: Any) -> tuple[int, Any]:
    return await shop.call("POST", "/internal/sms-stops", headers=INTERNAL, json={"phone": phone})


async def marketing_history(shop: Shop, token: str) -> list[dict[str, Any]]:
    status, body = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert status == 200, body
    return list(body["marketing_history"])


async def consent_changed(shop: Shop, customer_id: str) -> list[bool]:
    conn: asyncpg.Connection = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT body FROM outbox WHERE message_type = 'customers.consent.changed' ORDER BY id"
        )
    finally:
        await conn.close()
    bodies = [json.loads(row["body"]) for row in rows]
    return [b["granted"] for b in bodies if b["customer_id"] == customer_id]


async def handled_rows(
    shop: Shop, event: MarketingUnsubscribed | ContactSuppressed, table: str
) -> int:
    """Publish ``event``, wait until customers has handled it: the rows then in ``table``."""
    await handled(shop.dsn, await publish(shop.settings.amqp_url, event))
    conn: asyncpg.Connection = await shop.db()
    try:
        return int(await conn.fetchval(f"SELECT count(*) FROM {table}"))
    finally:
        await conn.close()


async def test_a_stop_by_sms_withdraws_the_sms_consent_of_that_number(shop: Shop) -> None:
    customer_id = await shop.register(marketing={"email": True, "sms": True})
    token = await shop.login("aigerim.test@example.kz")
    assert await audience(shop, "marketing", "sms") == 1
    # The provider writes the number its own way: 8 701 ... is +7 701 ... (phonenumbers, KZ).
    status, answer = await sms_stop(shop, "8 (701) 234-56-78")
    assert status == 200 and answer == {"withdrawn": True}
    assert await everyone(shop, "marketing", "sms") == []
    assert await everyone(shop, "marketing", "email") == [customer_id]  # email untouched
    [last] = (await marketing_history(shop, token))[-1:]
    assert last["channel"] == "sms" and last["granted"] is False and last["source"] == "sms_stop"
    _, consents = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert consents["marketing"] == {"email": True, "sms": False}
    assert await consent_changed(shop, customer_id) == [False]
    # Again: nothing left to withdraw; an unknown number: the same answer, nobody named.
    assert await sms_stop(shop, "+77012345678") == (200, {"withdrawn": False})
    assert await sms_stop(shop, "+77475550000") == (200, {"withdrawn": False})
    assert await consent_changed(shop, customer_id) == [False]
    _, export = await shop.call("GET", "/api/customers/me/export", token=token)
    assert [c["source"] for c in export["consents"] if c.get("source")] == ["sms_stop"]


async def test_a_stop_from_no_phone_number_is_a_422_that_quotes_nothing(shop: Shop) -> None:
    for phone in ("STOP-123", "", "1" * 40, 77012345678, None):
        status, problem = await sms_stop(shop, phone)
        assert status == 422, phone
        assert "STOP-123" not in str(problem) and "77012345678" not in str(problem)
    status, _ = await shop.call(
        "POST",
        "/internal/sms-stops",
        headers=INTERNAL,
        json={"phone": "+77012345678", "customer_id": str(uuid4())},
    )
    assert status == 422


async def test_an_unsubscribe_link_withdraws_once_and_says_how(shop: Shop) -> None:
    customer_id = await shop.register(marketing={"email": True, "sms": True})
    token = await shop.login("aigerim.test@example.kz")
    event = MarketingUnsubscribed(
        customer_id=UUID(customer_id),
        channel="email",
        via="one_click",
        campaign_id=uuid4(),
        at=datetime.now(UTC),
    )
    message_id = await publish(shop.settings.amqp_url, event)
    await handled(shop.dsn, message_id)
    await publish(shop.settings.amqp_url, event, message_id)  # a redelivery
    again = await publish(shop.settings.amqp_url, event.model_copy(update={"via": "page"}))
    await handled(shop.dsn, again)  # a second click on another link: already withdrawn
    history = await marketing_history(shop, token)
    withdrawals = [h for h in history if not h["granted"]]
    assert [(h["channel"], h["source"]) for h in withdrawals] == [("email", "one_click")]
    assert await consent_changed(shop, customer_id) == [False]
    assert await everyone(shop, "marketing", "email") == []
    assert await everyone(shop, "marketing", "sms") == [customer_id]
    # A page unsubscribe of the other channel shows its own source.
    sms = event.model_copy(update={"channel": "sms", "via": "page"})
    await handled(shop.dsn, await publish(shop.settings.amqp_url, sms))
    assert (await marketing_history(shop, token))[-1]["source"] == "page"


async def test_an_unsubscribe_of_an_unknown_customer_changes_nothing(shop: Shop) -> None:
    event = MarketingUnsubscribed(
        customer_id=uuid4(), channel="email", via="one_click", at=datetime.now(UTC)
    )
    assert await handled_rows(shop, event, "consents") == 0


async def test_a_suppressed_contact_is_skipped_until_the_customer_changes_it(shop: Shop) -> None:
    customer_id = await shop.register(marketing={"email": True, "sms": True})
    token = await shop.login("aigerim.test@example.kz")
    await suppress(shop, customer_id, "email")
    await suppress(shop, customer_id, "email")  # a second bounce changes nothing
    assert await everyone(shop, "marketing", "email") == []
    assert await everyone(shop, "marketing", "sms") == [customer_id]
    assert await everyone(shop, "service_communication", "email") == [customer_id]
    _, export = await shop.call("GET", "/api/customers/me/export", token=token)
    [row] = export["suppressions"]
    assert row["channel"] == "email" and row["reason"] == "hard_bounce"
    assert "example.kz" not in str(export["suppressions"])
    # The same address again (another writing of it) is no change: still suppressed.
    status, _ = await shop.call(
        "PATCH", "/api/customers/me", token=token, json={"email": "AIGERIM.test@example.kz"}
    )
    assert status == 200
    assert await everyone(shop, "marketing", "email") == []
    # The phone changes: the email stays suppressed; a new email lifts it.
    await suppress(shop, customer_id, "sms")
    status, _ = await shop.call(
        "PATCH", "/api/customers/me", token=token, json={"email": "new.address@example.kz"}
    )
    assert status == 200
    assert await everyone(shop, "marketing", "email") == [customer_id]
    assert await everyone(shop, "marketing", "sms") == []
    status, _ = await shop.call(
        "PATCH", "/api/customers/me", token=token, json={"phone": "+77019990011"}
    )
    assert status == 200
    assert await everyone(shop, "marketing", "sms") == [customer_id]
    _, export = await shop.call("GET", "/api/customers/me/export", token=token)
    assert export["suppressions"] == []


async def test_a_suppression_of_an_erased_customer_records_nothing(shop: Shop) -> None:
    event = ContactSuppressed(
        customer_id=uuid4(), channel="sms", reason="provider_rejected", at=datetime.now(UTC)
    )
    assert await handled_rows(shop, event, "contact_suppressions") == 0
