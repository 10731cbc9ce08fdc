"""A task that runs for the app's life: started on start-up, cancelled and awaited on cleanup."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

from shared.logging import get_logger

CleanupCtx = Callable[[web.Application], AsyncIterator[None]]
STOP_ATTEMPTS = 10
STOP_WAIT_S = 1.0
log = get_logger("shared.background")


async def stop_task(task: asyncio.Task[Any]) -> None:
    """Cancel ``task`` and wait for it, a bounded number of times: a library that swallows a
    cancellation (Python 3.11's ``wait_for`` can, when its inner future ends at the same
    moment) must not hold the app's shutdown forever. An error the task ended with is
    logged by type, never raised into the shutdown."""
    for _ in range(STOP_ATTEMPTS):
        task.cancel()
        await asyncio.wait({task}, timeout=STOP_WAIT_S)
        if task.done():
            if not task.cancelled() and task.exception() is not None:
                log.error(
                    "background task failed",
                    task=task.get_name(),
                    error=type(task.exception()).__name__,
                )
            return
    log.error("background task did not stop; left behind", task=task.get_name())


def task_ctx(name: str, run: Callable[[web.Application], Coroutine[Any, Any, None]]) -> CleanupCtx:
    """A ``cleanup_ctx`` running ``run(app)`` as the task ``name`` while the app lives."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(run(app), name=name)
        yield
        await stop_task(task)

    return ctx


def graceful_task_ctx(
    name: str,
    run: Callable[[web.Application, asyncio.Event], Coroutine[Any, Any, None]],
    grace_s: float,
) -> CleanupCtx:
    """As ``task_ctx``, but on cleanup ``run``'s event is set first and the task given
    ``grace_s`` to finish what it is doing (work in flight, its records) before it is
    cancelled."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        stopping = asyncio.Event()
        task = asyncio.create_task(run(app, stopping), name=name)
        yield
        stopping.set()
        await asyncio.wait({task}, timeout=grace_s)
        await stop_task(task)

    return ctx
