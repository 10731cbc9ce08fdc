"""The beacon's group commit, on a real database: hits arriving together are one write, each
caller returns only once its hit is kept, a refused row fails alone, a database away fails
its callers (and the next write is tried), and a caller gone away does not lose its hit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from datetime import date

import asyncpg
import pytest

from services.catalog import storage
from services.catalog.group_commit import GroupCommit
from shared.db import DbConn, create_pool


@pytest.fixture
async def pool(make_database) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(await make_database("catalog"))
    yield pool
    await pool.close()


def hit(path: str, visitor: bytes | None = None) -> storage.Visit:
    return storage.Visit(
        day=date(2026, 12, 4),
        path=path,
        product_id=None,
        referrer_host="",
        city="",
        region="",
        browser="",
        os="",
        visitor=visitor,
    )


class Recorded:
    """``storage.record_visits`` that also notes the size of each write."""

    def __init__(self) -> None:
        self.sizes: list[int] = []

    async def __call__(self, conn: DbConn, visits: Sequence[storage.Visit]) -> None:
        self.sizes.append(len(visits))
        await storage.record_visits(conn, visits)


async def kept_paths(pool: asyncpg.Pool) -> list[str]:
    return sorted(r["path"] for r in await pool.fetch("SELECT path FROM stats_hits"))


async def test_hits_arriving_together_are_written_together_each_once(pool: asyncpg.Pool):
    recorded = Recorded()
    writes = GroupCommit(pool, recorded, max_batch=30)
    paths = [f"/page/{n:03d}" for n in range(100)]
    visitors = [bytes([n % 7]) * 16 for n in range(100)]  # seven visitors, many hits each

    await asyncio.gather(*(writes.submit(hit(p, v)) for p, v in zip(paths, visitors, strict=True)))

    assert await kept_paths(pool) == paths
    assert await pool.fetchval("SELECT count(*) FROM stats_visitors") == 7
    assert sum(recorded.sizes) == 100
    assert len(recorded.sizes) < 10 and max(recorded.sizes) <= 30


async def test_a_hit_alone_is_written_at_once(pool: asyncpg.Pool):
    writes = GroupCommit(pool, storage.record_visits)
    await asyncio.wait_for(writes.submit(hit("/alone")), timeout=5)
    assert await kept_paths(pool) == ["/alone"]


async def test_a_row_the_database_refuses_fails_alone(pool: asyncpg.Pool):
    writes = GroupCommit(pool, storage.record_visits)
    paths = ["/a", "/b", "/bad\x00", "/c", "/d"]  # PostgreSQL text takes no NUL

    results = await asyncio.gather(*(writes.submit(hit(p)) for p in paths), return_exceptions=True)

    assert [type(r).__name__ for r in results] == [
        "NoneType",
        "NoneType",
        "CharacterNotInRepertoireError",
        "NoneType",
        "NoneType",
    ]
    assert await kept_paths(pool) == ["/a", "/b", "/c", "/d"]


async def test_a_database_away_fails_every_caller_and_the_writer_goes_on():
    nowhere = await asyncpg.create_pool("postgresql://postgres@127.0.0.1:9/none", min_size=0)
    writes = GroupCommit(nowhere, storage.record_visits)

    results = await asyncio.gather(
        *(writes.submit(hit(f"/{n}")) for n in range(5)), return_exceptions=True
    )
    assert all(isinstance(r, OSError) for r in results), results
    with pytest.raises(OSError):  # answered, not stuck behind the failed write
        await asyncio.wait_for(writes.submit(hit("/next")), timeout=5)
    await nowhere.close()


async def test_a_caller_gone_away_keeps_its_hit_and_its_batch(pool: asyncpg.Pool):
    writes = GroupCommit(pool, storage.record_visits)
    gone = asyncio.create_task(writes.submit(hit("/gone")))
    await asyncio.sleep(0)  # queued, the write begun
    staying = asyncio.create_task(writes.submit(hit("/staying")))
    gone.cancel()

    await asyncio.wait_for(staying, timeout=5)
    await writes.close()

    assert gone.cancelled()
    assert await kept_paths(pool) == ["/gone", "/staying"]
