"""PromotionStarted and PromotionEnded: each once per promotion, through the outbox, with
two scheduler replicas on one database and across a restart."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import uuid4

import aiohttp
import asyncpg
import pytest

from services.catalog.app import create_app
from services.catalog.config import Settings
from shared.auth import TokenIssuer
from shared.service import running_app
from tests.catalog.conftest import bearer

STARTED, ENDED = "catalog.promotion.started", "catalog.promotion.ended"
WAIT_S = 20.0


@contextlib.asynccontextmanager
async def replicas(settings: Settings, count: int) -> AsyncIterator[list[str]]:
    async with contextlib.AsyncExitStack() as stack:
        urls = [
            await stack.enter_async_context(running_app(create_app(settings))) for _ in range(count)
        ]
        yield urls


@pytest.fixture
async def setup(
    make_database, amqp_url: str, make_settings
) -> AsyncIterator[tuple[Settings, asyncpg.Pool]]:
    dsn = await make_database("catalog")
    settings = make_settings(dsn, amqp_url).model_copy(update={"promotion_interval_s": 0.1})
    pool = await asyncpg.create_pool(dsn, min_size=1, max_size=2)
    await pool.execute(
        "INSERT INTO categories (id, slug, name) VALUES ($1, 'misc', 'Разное')", uuid4()
    )
    try:
        yield settings, pool
    finally:
        await pool.close()


async def events(pool: asyncpg.Pool, promotion_id: str) -> list[tuple[str, dict[str, Any]]]:
    rows = await pool.fetch(
        "SELECT message_type, body FROM outbox WHERE message_type LIKE 'catalog.promotion.%'"
        " ORDER BY id"
    )
    found = [(r["message_type"], json.loads(bytes(r["body"]))) for r in rows]
    return [(kind, body) for kind, body in found if body["promotion_id"] == promotion_id]


async def wait_for(pool: asyncpg.Pool, promotion_id: str, kind: str) -> None:
    async with asyncio.timeout(WAIT_S):
        while kind not in [k for k, _ in await events(pool, promotion_id)]:
            await asyncio.sleep(0.05)


def at(seconds: float) -> str:
    return (datetime.now(UTC) + timedelta(seconds=seconds)).isoformat()


async def create(url: str, headers: dict[str, str], starts: float, ends: float) -> str:
    body = {
        "name": "Короткая акция",
        "discount": {"percent": 10},
        "category": "misc",
        "starts_at": at(starts),
        "ends_at": at(ends),
    }
    async with aiohttp.ClientSession() as http:
        async with http.post(f"{url}/api/catalog/promotions", json=body, headers=headers) as r:
            assert r.status == 201, await r.text()
            return str((await r.json())["id"])


@pytest.fixture
def marketer(token_issuer: TokenIssuer) -> dict[str, str]:
    return bearer(token_issuer.issue(uuid4(), "staff", frozenset({"marketer"})))


async def test_two_replicas_announce_start_and_end_once_each(setup, marketer):
    settings, pool = setup
    async with replicas(settings, 2) as (one, two):
        promotion_id = await create(one, marketer, starts=0.5, ends=1.5)
        assert await events(pool, promotion_id) == []  # scheduled: nothing yet
        await wait_for(pool, promotion_id, ENDED)
        # A few more rounds of both replicas pass while a marker promotion starts.
        marker = await create(two, marketer, starts=0.5, ends=60)
        await wait_for(pool, marker, STARTED)
    found = await events(pool, promotion_id)
    assert [kind for kind, _ in found] == [STARTED, ENDED]
    started, ended = found[0][1], found[1][1]
    assert started["discount"] == {"percent": 10, "amount": None}
    assert started["category"] == "misc" and started["product_ids"] == []
    assert datetime.fromisoformat(ended["at"]) == datetime.fromisoformat(started["ends_at"])


async def test_created_live_and_ended_early_are_announced_by_the_requests(setup, marketer):
    settings, pool = setup
    async with replicas(settings, 1) as (url,):
        promotion_id = await create(url, marketer, starts=-60, ends=3600)
        assert [kind for kind, _ in await events(pool, promotion_id)] == [STARTED]
        async with aiohttp.ClientSession() as http:
            async with http.patch(
                f"{url}/api/catalog/promotions/{promotion_id}",
                json={"status": "ended"},
                headers=marketer,
            ) as r:
                assert r.status == 200
                ended_at = datetime.fromisoformat((await r.json())["ended_at"])
        found = await events(pool, promotion_id)
        assert [kind for kind, _ in found] == [STARTED, ENDED]
        assert datetime.fromisoformat(found[1][1]["at"]) == ended_at
        marker = await create(url, marketer, starts=0.3, ends=60)
        await wait_for(pool, marker, STARTED)  # the scheduler ran rounds since
    assert len(await events(pool, promotion_id)) == 2


async def test_a_restarted_scheduler_announces_what_is_due_and_nothing_twice(setup, marketer):
    settings, pool = setup
    async with replicas(settings, 1) as (url,):
        running = await create(url, marketer, starts=0.3, ends=2.0)
        await wait_for(pool, running, STARTED)
        # Its whole window passes while no scheduler runs.
        missed = await create(url, marketer, starts=0.5, ends=1.0)
    await asyncio.sleep(2.0)
    assert await events(pool, missed) == []
    async with replicas(settings, 1) as (url,):
        await wait_for(pool, running, ENDED)
        await wait_for(pool, missed, ENDED)
        marker = await create(url, marketer, starts=0.3, ends=60)
        await wait_for(pool, marker, STARTED)
    assert [kind for kind, _ in await events(pool, running)] == [STARTED, ENDED]
    assert [kind for kind, _ in await events(pool, missed)] == [STARTED, ENDED]


async def test_a_cancelled_promotion_is_never_announced(setup, marketer):
    settings, pool = setup
    async with replicas(settings, 1) as (url,):
        promotion_id = await create(url, marketer, starts=0.5, ends=1.0)
        async with aiohttp.ClientSession() as http:
            async with http.patch(
                f"{url}/api/catalog/promotions/{promotion_id}",
                json={"status": "cancelled"},
                headers=marketer,
            ) as r:
                assert r.status == 200
        marker = await create(url, marketer, starts=1.2, ends=60)
        await wait_for(pool, marker, STARTED)  # past the cancelled one's window
    assert await events(pool, promotion_id) == []
