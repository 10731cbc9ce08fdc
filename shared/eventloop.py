"""The event loop every process of the shop runs on: uvloop (libuv), not asyncio's own.

Services, their outbox relays and consumers, the stand-ins, the SMTP sink and the bare steps
of ``bench.floor`` all start through ``run`` (or ``new_event_loop`` where aiohttp's
``web.run_app`` makes the loop), so a benchmark compares like with like.
"""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine
from typing import Any, TypeVar

import uvloop

T = TypeVar("T")


def new_event_loop() -> asyncio.AbstractEventLoop:
    return uvloop.new_event_loop()


def run(main: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(main)`` on a uvloop loop."""
    with asyncio.Runner(loop_factory=new_event_loop) as runner:
        return runner.run(main)
