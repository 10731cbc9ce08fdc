"""A task that runs for the app's life: started on start-up, cancelled and awaited on cleanup."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, Coroutine
from typing import Any

from aiohttp import web

CleanupCtx = Callable[[web.Application], AsyncIterator[None]]


def task_ctx(name: str, run: Callable[[web.Application], Coroutine[Any, Any, None]]) -> CleanupCtx:
    """A ``cleanup_ctx`` running ``run(app)`` as the task ``name`` while the app lives."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        task = asyncio.create_task(run(app), name=name)
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task

    return ctx
