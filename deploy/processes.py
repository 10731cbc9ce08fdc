"""Running the stack's processes (``deploy.stack.Process``) as children of this one: start
them with their logs in a directory, wait until each answers, watch them, stop them all."""

from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from deploy.servers import SetupError
from deploy.stack import Process

ROOT = Path(__file__).resolve().parent.parent
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


def child_environ(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


@dataclass
class Child:
    spec: Process
    log_dir: Path
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def log_path(self) -> Path:
        return self.log_dir / f"{self.name}.log"

    async def start(self) -> None:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, *self.spec.args, cwd=ROOT, env=child_environ(self.spec.env),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip

    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


async def is_ready(session: aiohttp.ClientSession, url: str) -> bool:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with session.get(url) as response:
            return response.status < 400
    return False


async def wait_ready(procs: list[Child], say: Callable[[str], None] | None = None) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    pending = list(procs)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while pending:
            for child in list(pending):
                if child.exited():
                    raise SetupError(f"{child.name} exited at start:\n{child.log_tail()}")
                if await is_ready(session, child.spec.ready_url):
                    if say is not None:
                        say(f"{child.name} is up ({child.spec.ready_url})")
                    pending.remove(child)
            if time.monotonic() > deadline:
                names = ", ".join(c.name for c in pending)
                raise SetupError(f"not up after {START_TIMEOUT_S:.0f}s: {names} (see its log)")
            await asyncio.sleep(0.3)


async def stop_all(procs: list[Child]) -> None:
    """SIGTERM every child, wait, then SIGKILL the stragglers."""
    running = [c.process for c in procs if c.process is not None and c.process.returncode is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    waits = [asyncio.create_task(p.wait()) for p in running]
    if waits:
        _, late = await asyncio.wait(waits, timeout=STOP_TIMEOUT_S)
        for process in running:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        await asyncio.gather(*late)


async def watch(procs: list[Child], stop: asyncio.Event) -> str | None:
    """Until ``stop`` is set (a signal) or a child dies; return the name of a dead child."""
    while not stop.is_set():
        for child in procs:
            if child.exited():
                return child.name
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1)
    return None
