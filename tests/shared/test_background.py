"""An app's background task stops at shutdown even when a library swallowed a cancellation."""

from __future__ import annotations

import asyncio

from shared.background import stop_task


async def test_a_task_that_swallows_the_first_cancellation_is_stopped():
    reached_sleep = asyncio.Event()

    async def stubborn() -> None:
        try:
            await asyncio.sleep(3600)
        except asyncio.CancelledError:
            pass  # what a buggy library may do; the loop then goes on
        reached_sleep.set()
        await asyncio.sleep(3600)

    task = asyncio.create_task(stubborn())
    await asyncio.sleep(0)
    await asyncio.wait_for(stop_task(task), 10)
    assert reached_sleep.is_set() and task.cancelled()


async def test_a_task_that_never_stops_is_left_behind_without_holding_the_shutdown(monkeypatch):
    monkeypatch.setattr("shared.background.STOP_WAIT_S", 0.05)

    released = asyncio.Event()

    async def immortal() -> None:
        while not released.is_set():
            try:
                await asyncio.sleep(3600)
            except asyncio.CancelledError:
                continue

    task = asyncio.create_task(immortal())
    await asyncio.sleep(0)
    await asyncio.wait_for(stop_task(task), 5)
    assert not task.done()
    released.set()
    task.cancel()
    await task
