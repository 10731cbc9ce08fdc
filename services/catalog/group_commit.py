"""Group commit: rows that arrive while one write is under way go to the database together.

Each caller waits until its own row is committed, so an answer given is a row kept (a crash
loses nothing acknowledged). A database away fails every caller of the write (their 503);
a row the database refuses is found by writing the batch's rows one by one, and fails
alone. Under load the rows that queued during one write are the next write: one pool
checkout, one statement and one commit for all of them instead of one each. Alone, a row
is written at once; nothing waits for a timer.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

import asyncpg

from shared.db import DbConn, unreachable

Row = TypeVar("Row")
MAX_BATCH = 500  # rows in one statement: a bound on its size, never a wait


class GroupCommit(Generic[Row]):
    def __init__(
        self,
        pool: asyncpg.Pool,
        write: Callable[[DbConn, Sequence[Row]], Awaitable[None]],
        max_batch: int = MAX_BATCH,
    ) -> None:
        self._pool = pool
        self._write = write
        self._max_batch = max_batch
        self._queued: list[tuple[Row, asyncio.Future[None]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, row: Row) -> None:
        """Returns once ``row`` is committed; raises what its write raised."""
        done = asyncio.get_running_loop().create_future()
        self._queued.append((row, done))
        if self._writer is None:
            self._writer = asyncio.create_task(self._write_queued(), name="group commit")
        await asyncio.shield(done)  # a caller gone away does not take its batch with it

    async def close(self) -> None:
        """Waits for the rows already submitted."""
        if self._writer is not None:
            await asyncio.shield(self._writer)

    async def _write_queued(self) -> None:
        batch: list[tuple[Row, asyncio.Future[None]]] = []
        try:
            while self._queued:
                batch = self._queued[: self._max_batch]
                del self._queued[: self._max_batch]
                await self._write_batch(batch)
        finally:  # cancelled mid-write, nobody may wait for a write that will not come
            for _, done in [*batch, *self._queued]:
                if not done.done():
                    done.cancel()
            self._queued.clear()
            self._writer = None

    async def _write_batch(self, batch: list[tuple[Row, asyncio.Future[None]]]) -> None:
        try:
            async with self._pool.acquire() as conn:
                await self._write(conn, [row for row, _ in batch])
        except Exception as error:
            if len(batch) > 1 and not unreachable(error):  # one bad row: find it, keep the rest
                for one in batch:
                    await self._write_batch([one])
            else:
                for _, done in batch:
                    done.set_exception(error)
        else:
            for _, done in batch:
                done.set_result(None)
