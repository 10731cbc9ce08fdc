"""The customers service's ``/metrics``: releases counted per purpose and recipient, and
nothing personal in any label (no email, phone, name or customer id)."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.customers.keys import ACCOUNTS
from tests.customers.conftest import Shop
from tests.customers.test_audiences import batch, person
from tests.customers.test_releases import INTERNAL, release_body
from tests.metrics_helpers import samples, scrape_text, value


async def test_releases_are_counted_by_purpose_and_recipient_with_no_personal_value(
    shop: Shop,
) -> None:
    customer_id = await shop.register()
    for channel in ("email", "sms"):
        status, _ = await shop.call(
            "POST",
            "/internal/releases",
            json=release_body(customer_id, channel=channel),
            headers=INTERNAL,
        )
        assert status == 200
    status, _ = await shop.call("GET", "/api/customers/me/aigerim.test@example.kz")
    assert status == 404
    text = await scrape_text(shop.url)
    found = samples(text)
    releases = value(
        found, "shop_releases_total", purpose="service_communication", recipient="notifications"
    )
    assert releases == 2
    routes = "shop_http_requests_total"
    assert value(found, routes, route="/internal/releases", method="POST", status="200") == 2
    assert value(found, routes, route="(unmatched)", method="GET", status="404") == 1
    for personal in ("aigerim", "example.kz", "+7701", "77012345678", "Айгерим", customer_id):
        assert personal not in text


async def test_contact_batches_count_each_release_of_the_page(shop: Shop) -> None:
    for n in range(3):
        await shop.register(**person(n, email=True, sms=False))
    page = await batch(shop, "marketing", "email")
    assert len(page["items"]) == 3
    text = await scrape_text(shop.url)
    found = samples(text)
    assert value(found, "shop_releases_total", purpose="marketing", recipient="notifications") == 3
    assert "person0" not in text and "example.kz" not in text and "Имя" not in text


class RolledBack(Exception):
    pass


def releases_counted(text: str) -> float:
    found = samples(text)
    return value(
        found, "shop_releases_total", purpose="service_communication", recipient="notifications"
    )


async def test_a_release_is_counted_when_its_transaction_commits_not_if_it_rolls_back(
    shop: Shop,
) -> None:
    customer_id = UUID(await shop.register())
    gate = shop.app[ACCOUNTS].gate
    conn = await shop.db()
    try:

        async def release() -> None:
            await gate.release(
                conn,
                customer_id,
                purpose="service_communication",
                kind="email",
                recipient="notifications",
                actor="service:notifications",
            )

        with pytest.raises(RolledBack):
            async with gate.transaction(conn):
                await release()
                raise RolledBack
        async with gate.transaction(conn):
            await release()
            with pytest.raises(RolledBack):
                async with gate.transaction(conn):  # a savepoint rolled back: not counted
                    await release()
                    raise RolledBack
            assert releases_counted(await scrape_text(shop.url)) == 0  # not committed yet
        assert await conn.fetchval("SELECT count(*) FROM disclosures") == 1
    finally:
        await conn.close()
    assert releases_counted(await scrape_text(shop.url)) == 1
