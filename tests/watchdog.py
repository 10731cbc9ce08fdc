"""A test that hangs says where: after ``HANG_DUMP_S`` in one phase (setup, call or teardown)
the stacks of every asyncio task of the test loop and of every thread go to the real stderr,
around pytest's capture. pytest-timeout then ends the run (``timeout`` in pyproject), so CI
fails in minutes with the stacks instead of being cut off silently."""

from __future__ import annotations

import asyncio
import faulthandler
import sys
import threading
from collections.abc import Iterator

import pytest

HANG_DUMP_S = 180.0
LOOP = pytest.StashKey[asyncio.AbstractEventLoop]()


def _print_tasks(nodeid: str) -> None:
    out = sys.__stderr__
    if out is None:
        return
    print(f"\n[watchdog] {nodeid}: still running after {HANG_DUMP_S:.0f}s", file=out)
    for task in asyncio.all_tasks():
        print(f"[watchdog] task {task.get_name()}:", file=out)
        task.print_stack(file=out)
    out.flush()


def _dump(config: pytest.Config, nodeid: str) -> None:
    if sys.__stderr__ is not None:
        faulthandler.dump_traceback(file=sys.__stderr__, all_threads=True)
    loop = config.stash.get(LOOP, None)
    if loop is not None and not loop.is_closed():
        loop.call_soon_threadsafe(_print_tasks, nodeid)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> Iterator[None]:
    timer = threading.Timer(HANG_DUMP_S, _dump, args=(item.config, item.nodeid))
    timer.daemon = True
    timer.start()
    try:
        return (yield)
    finally:
        timer.cancel()


@pytest.fixture(scope="session", autouse=True)
async def _watched_loop(request: pytest.FixtureRequest) -> None:
    request.config.stash[LOOP] = asyncio.get_running_loop()
