"""Inactive accounts: a notice first (an event notifications turns into a mail), then, still
unused when the notice's period ends, an erasure request filed by retention. Real customers
app, PostgreSQL and RabbitMQ; times are moved in the database, not waited for."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from uuid import UUID, uuid4

import aio_pika
import pytest

from services.customers import retention
from shared.db import PG_POOL
from shared.messaging import EVENTS_EXCHANGE, declare_exchanges
from shared.retention import run_one
from shared.workdays import filing_day
from tests.customers.conftest import Shop


@pytest.fixture
async def notices(shop: Shop) -> AsyncIterator[aio_pika.abc.AbstractQueue]:
    """A private queue of the inactivity notices the shop publishes."""
    connection = await aio_pika.connect_robust(shop.settings.amqp_url)
    channel = await connection.channel()
    await declare_exchanges(channel)
    queue = await channel.declare_queue(f"test.notices.{uuid4()}", exclusive=True)
    await queue.bind(EVENTS_EXCHANGE, "customers.customer.inactivity_notice")
    yield queue
    await connection.close()


async def next_notice(queue: aio_pika.abc.AbstractQueue) -> dict[str, str]:
    async with asyncio.timeout(10):
        while (message := await queue.get(no_ack=True, fail=False)) is None:
            await asyncio.sleep(0.05)
    assert message.type == "customers.customer.inactivity_notice"
    return dict(json.loads(message.body))


async def run(shop: Shop, kind: str) -> int:
    [sweep] = [r for r in retention.rules(shop.app) if r.kind == kind]
    return (await run_one(shop.app[PG_POOL], sweep, shop.settings)).count


async def test_notice_then_erasure_request_unless_the_customer_comes_back(
    shop: Shop, notices: aio_pika.abc.AbstractQueue
) -> None:
    gone = UUID(await shop.register(email="gone@example.kz", phone="+7 701 000 00 01"))
    back = UUID(await shop.register(email="back@example.kz", phone="+7 701 000 00 02"))
    fresh = UUID(await shop.register(email="fresh@example.kz", phone="+7 701 000 00 03"))
    blocked = UUID(await shop.register(email="blocked@example.kz", phone="+7 701 000 00 04"))
    await shop.block(str(blocked))
    conn = await shop.db()
    try:
        await conn.execute(
            "UPDATE customers SET last_active_at = now() - interval '4 years'"
            " WHERE id = ANY($1::uuid[])",
            [gone, back, blocked],
        )
        assert await run(shop, "inactivity_notices") == 2
        got = {UUID((await next_notice(notices))["customer_id"]) for _ in range(2)}
        assert got == {gone, back}
        assert await run(shop, "inactivity_notices") == 0  # told once

        # One of them signs in: the notice lapses and the account is active again.
        await shop.login("back@example.kz")
        row = await conn.fetchrow(
            "SELECT last_active_at > now() - interval '1 minute' AS active,"
            " inactivity_notice_at FROM customers WHERE id = $1",
            back,
        )
        assert row["active"] and row["inactivity_notice_at"] is None

        # Before the notice's 60 days are over nothing is erased ...
        assert await run(shop, "inactive_accounts") == 0
        # ... after them the unused account is erased, once, as DELETE /me would.
        await conn.execute(
            "UPDATE customers SET inactivity_notice_at = now() - interval '61 days'"
            " WHERE inactivity_notice_at IS NOT NULL"
        )
        assert await run(shop, "inactive_accounts") == 1
        assert await run(shop, "inactive_accounts") == 0
        requests = await conn.fetch(
            "SELECT customer_id, kind, status, filed_by FROM subject_requests WHERE kind = 'erase'"
        )
        # Shredded; it completes when orders and notifications confirm.
        assert [tuple(r) for r in requests] == [
            (gone, "erase", "in_progress", "retention:inactive_account")
        ]
        status = dict(await conn.fetch("SELECT id, status FROM customers"))
        assert (status[gone], status[back], status[fresh]) == ("erased", "active", "active")
        assert (
            await conn.fetchval("SELECT count(*) FROM customer_pd WHERE customer_id = $1", gone)
            == 0
        )
        assert (
            await conn.fetchval("SELECT count(*) FROM customer_pd WHERE customer_id = $1", back) > 0
        )
        status_code, _ = await shop.call(
            "POST", "/api/customers/login",
            json={"login": "gone@example.kz", "password": "correct horse battery"},
        )  # fmt: skip
        assert status_code == 401
        runs = await conn.fetch(
            "SELECT kind, action, count FROM retention_runs"
            " WHERE kind IN ('inactivity_notices', 'inactive_accounts') ORDER BY id"
        )
        # The app's own start-up run came first and found nothing; then the five above.
        assert all(r["count"] == 0 for r in runs[:-5])
        assert [tuple(r) for r in runs[-5:]] == [
            ("inactivity_notices", "notice", 2),
            ("inactivity_notices", "notice", 0),
            ("inactive_accounts", "erase", 0),
            ("inactive_accounts", "erase", 1),
            ("inactive_accounts", "erase", 0),
        ]
        untouched = await conn.fetchval(
            "SELECT inactivity_notice_at FROM customers WHERE id = $1", fresh
        )
        assert untouched is None
    finally:
        await conn.close()


async def test_the_notice_names_the_day_erasure_starts(
    shop: Shop, notices: aio_pika.abc.AbstractQueue
) -> None:
    customer = UUID(await shop.register())
    conn = await shop.db()
    try:
        await conn.execute(
            "UPDATE customers SET last_active_at = now() - interval '1100 days' WHERE id = $1",
            customer,
        )
    finally:
        await conn.close()
    assert await run(shop, "inactivity_notices") == 1
    notice = await next_notice(notices)
    expected = filing_day(datetime.now(UTC)) + timedelta(days=60)
    assert date.fromisoformat(notice["erase_after"]) in (expected, expected + timedelta(days=1))
    assert set(notice) == {"customer_id", "erase_after"}  # ids and a date, nothing personal
