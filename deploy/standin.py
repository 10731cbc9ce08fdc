"""Running a stand-in for an outside party (courier, bank) as its own process until stopped."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from typing import Any, Protocol

from aiohttp import web


class StandIn(Protocol):
    def create_app(self) -> web.Application: ...


async def wait_for_stop_signal() -> None:
    """Return on SIGINT or SIGTERM."""
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    await stop.wait()


async def serve_standin(
    standin: AbstractAsyncContextManager[StandIn], host: str, port: int, label: str
) -> None:
    """Enter the stand-in (its broker consumer), serve its pages on host:port, until stopped."""
    async with standin as running:
        runner = web.AppRunner(running.create_app(), access_log=None)
        await runner.setup()
        await web.TCPSite(runner, host, port).start()
        logging.getLogger("deploy").info("%s on http://%s:%d", label, host, port)
        try:
            await wait_for_stop_signal()
        finally:
            await runner.cleanup()


def run_main(serve: Callable[[], Coroutine[Any, Any, None]]) -> None:
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(message)s")
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(serve())
