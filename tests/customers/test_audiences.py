"""The audience of a campaign or a notice (``/internal/audiences``) and its contact batches
(``/internal/contact-batches``): exactly who may get it, in keyset pages, each item a release
the customer sees in their register; nothing of it stored in plaintext."""

from __future__ import annotations

import subprocess
from datetime import UTC, datetime
from typing import Any
from uuid import UUID, uuid4

import pytest

from shared.contracts import ContactSuppressed
from tests.customers.conftest import INTERNAL_TOKEN, Shop
from tests.shared.messaging_helpers import handled, publish

INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}
PASSWORD = "correct horse battery"


def person(n: int, email: bool, sms: bool) -> dict[str, Any]:
    return {
        "email": f"person{n}@example.kz",
        "phone": f"+7701555{n:04d}",
        "first_name": f"Имя{n}",
        "marketing": {"email": email, "sms": sms},
    }


async def batch(
    shop: Shop,
    purpose: str,
    channel: str,
    *,
    after: str | None = None,
    limit: int = 1000,
    reference: UUID | None = None,
) -> dict[str, Any]:
    body = {
        "purpose": purpose,
        "channel": channel,
        "reference": str(reference or uuid4()),
        "after": after,
        "limit": limit,
    }
    status, answer = await shop.call(
        "POST", "/internal/contact-batches", headers=INTERNAL, json=body
    )
    assert status == 200, answer
    return dict(answer)


async def everyone(shop: Shop, purpose: str, channel: str, limit: int = 1000) -> list[str]:
    """Walk the whole audience page by page; the customer ids in the order given."""
    seen: list[str] = []
    after: str | None = None
    while True:
        page = await batch(shop, purpose, channel, after=after, limit=limit)
        seen += [item["customer_id"] for item in page["items"]]
        after = page["next_after"]
        if after is None:
            return seen


async def audience(shop: Shop, purpose: str, channel: str) -> int:
    status, answer = await shop.call(
        "GET", f"/internal/audiences?purpose={purpose}&channel={channel}", headers=INTERNAL
    )
    assert status == 200, answer
    return int(answer["audience"])


async def suppress(shop: Shop, customer_id: str, channel: str) -> None:
    event = ContactSuppressed(
        customer_id=UUID(customer_id), channel=channel, reason="hard_bounce", at=datetime.now(UTC)
    )
    await handled(shop.dsn, await publish(shop.settings.amqp_url, event))


async def test_the_consent_matrix_gives_exactly_the_right_people(shop: Shop) -> None:
    email_only = await shop.register(**person(1, True, False))
    sms_only = await shop.register(**person(2, False, True))
    both = await shop.register(**person(3, True, True))
    neither = await shop.register(**person(4, False, False))
    blocked = await shop.register(**person(5, True, True))
    await shop.register(**person(6, True, True))  # erased below
    suppressed = await shop.register(**person(7, True, True))
    await shop.block(blocked)
    token = await shop.login("person6@example.kz")
    status, _ = await shop.call(
        "DELETE", "/api/customers/me", token=token, json={"password": PASSWORD}
    )
    assert status == 202
    await suppress(shop, suppressed, "email")

    expected = {
        ("marketing", "email"): {email_only, both},
        ("marketing", "sms"): {sms_only, both, suppressed},
        ("service_communication", "email"): {email_only, sms_only, both, neither, suppressed},
        ("service_communication", "sms"): {email_only, sms_only, both, neither, suppressed},
    }
    for (purpose, channel), ids in expected.items():
        assert await audience(shop, purpose, channel) == len(ids), (purpose, channel)
        got = await everyone(shop, purpose, channel)
        assert sorted(got) == sorted(ids), (purpose, channel)
        assert got == sorted(got, key=UUID), "ordered by customer id"

    page = await batch(shop, "marketing", "sms", limit=10)
    by_id = {item["customer_id"]: item for item in page["items"]}
    assert by_id[both]["contact"] == "+77015550003"
    assert by_id[both]["first_name"] == "Имя3" and by_id[both]["locale"] == "kk"
    assert set(by_id[both]) == {"customer_id", "release_id", "locale", "first_name", "contact"}
    email_page = await batch(shop, "marketing", "email", limit=10)
    assert {item["contact"] for item in email_page["items"]} == {
        "person1@example.kz",
        "person3@example.kz",
    }


async def test_keyset_pages_cover_everyone_once_with_a_registration_midway(shop: Shop) -> None:
    ids = [await shop.register(**person(n, False, False)) for n in range(7)]
    seen: list[str] = []
    after: str | None = None
    late: str | None = None
    cursor_when_late: str | None = None
    while True:
        page = await batch(shop, "service_communication", "email", after=after, limit=3)
        assert len(page["items"]) <= 3
        seen += [item["customer_id"] for item in page["items"]]
        after = page["next_after"]
        if late is None:  # someone registers while the notice is being sent
            late = await shop.register(**person(50, False, False))
            cursor_when_late = after
        if after is None:
            break
    assert len(seen) == len(set(seen)), "nobody twice"
    assert seen == sorted(seen, key=UUID), "no step back across pages"
    assert set(ids) <= set(seen), "nobody skipped at a page boundary"
    assert late is not None and cursor_when_late is not None
    # The late one is in this walk exactly when their id comes after the cursor of the time.
    assert (late in seen) == (UUID(late) > UUID(cursor_when_late))


async def test_every_item_is_a_release_in_the_customers_register(shop: Shop) -> None:
    customer_id = await shop.register(marketing={"email": True, "sms": False})
    campaign = uuid4()
    page = await batch(shop, "marketing", "email", reference=campaign)
    [item] = page["items"]
    assert page["next_after"] is None
    token = await shop.login("aigerim.test@example.kz")
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    [row] = [r for r in register["items"] if r["release_id"] == item["release_id"]]
    assert row["recipient"] == "notifications" and row["purpose"] == "marketing"
    assert row["fields"] == ["email", "first_name"] and row["reference"] == str(campaign)
    _, export = await shop.call("GET", "/api/customers/me/export", token=token)
    assert item["release_id"] in {d["release_id"] for d in export["disclosures"]}
    conn = await shop.db()
    try:
        count = await conn.fetchval(
            "SELECT count(*) FROM disclosures WHERE customer_id = $1 AND reference = $2",
            UUID(customer_id),
            campaign,
        )
    finally:
        await conn.close()
    assert count == 1


async def test_a_withdrawal_between_batches_keeps_the_customer_out_of_the_next(
    shop: Shop,
) -> None:
    ids = [await shop.register(**person(n, True, False)) for n in range(4)]
    last = max(ids, key=UUID)
    first_page = await batch(shop, "marketing", "email", limit=2)
    assert last not in {item["customer_id"] for item in first_page["items"]}
    n = ids.index(last)
    token = await shop.login(f"person{n}@example.kz")
    status, _ = await shop.call(
        "PUT",
        "/api/customers/me/consents",
        token=token,
        json={"marketing": {"email": False, "sms": False}},
    )
    assert status == 200
    rest = await batch(shop, "marketing", "email", after=first_page["next_after"], limit=2)
    got = {item["customer_id"] for item in rest["items"]}
    assert last not in got and got == set(ids) - {last} - {
        item["customer_id"] for item in first_page["items"]
    }


@pytest.mark.parametrize(
    "body",
    [
        {"purpose": "delivery", "channel": "email"},
        {"purpose": "marketing", "channel": "push"},
        {"purpose": "marketing", "channel": "email", "limit": 0},
        {"purpose": "marketing", "channel": "email", "limit": 1001},
        {"purpose": "marketing", "channel": "email", "limit": True},
        {"purpose": "marketing", "channel": "email", "limit": "5"},
        {"purpose": "marketing", "channel": "email", "after": "not-an-id"},
        {"purpose": "marketing", "channel": "email", "reference": "x"},
        {"purpose": "marketing", "channel": "email", "recipient": "courier:x"},
    ],
)
async def test_a_bad_batch_request_is_a_422(shop: Shop, body: dict[str, Any]) -> None:
    full = {"purpose": "marketing", "channel": "email", "reference": str(uuid4()), "limit": 10}
    status, problem = await shop.call(
        "POST", "/internal/contact-batches", headers=INTERNAL, json={**full, **body}
    )
    assert status == 422, problem
    assert "not-an-id" not in str(problem) and "courier" not in str(problem)


BAD_QUERIES = [
    "purpose=delivery&channel=email",
    "purpose=marketing&channel=fax",
    "purpose=marketing",
    "purpose=marketing&channel=email&extra=1",
]


@pytest.mark.parametrize("query", BAD_QUERIES)
async def test_a_bad_audience_query_is_a_422(shop: Shop, query: str) -> None:
    status, problem = await shop.call("GET", f"/internal/audiences?{query}", headers=INTERNAL)
    assert status == 422 and "fax" not in str(problem)


async def test_the_routes_need_the_internal_token(shop: Shop) -> None:
    await shop.register(marketing={"email": True, "sms": True})
    token = await shop.login("aigerim.test@example.kz")
    body = {"purpose": "marketing", "channel": "email", "reference": str(uuid4()), "limit": 5}
    for headers in ({"Authorization": f"Bearer {token}"}, {"X-Internal-Token": "guess"}, {}):
        status, answer = await shop.call(
            "POST", "/internal/contact-batches", headers=headers, json=body
        )
        assert status == 403 and "example.kz" not in str(answer)
        status, _ = await shop.call(
            "GET", "/internal/audiences?purpose=marketing&channel=email", headers=headers
        )
        assert status == 403
        status, _ = await shop.call(
            "POST", "/internal/sms-stops", headers=headers, json={"phone": "+77012345678"}
        )
        assert status == 403


async def test_no_plaintext_contact_in_the_database_after_batches(shop: Shop) -> None:
    await shop.register(marketing={"email": True, "sms": True})
    for purpose in ("marketing", "service_communication"):
        for channel in ("email", "sms"):
            assert (await batch(shop, purpose, channel))["items"]
    dump = subprocess.run(
        ["pg_dump", "--data-only", "--dbname", shop.dsn], capture_output=True, check=True
    ).stdout.decode()
    assert "first_name" in dump  # the dump holds the register's field names...
    for value in ("aigerim.test@example.kz", "Aigerim.Test", "77012345678", "Айгерим"):
        assert value not in dump, value  # ...and none of the values
