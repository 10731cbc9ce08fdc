"""Running the stack's processes (``deploy.stack.Process``) as children of this one: start
them with their logs in a directory, wait until each answers, stop them all; and
``Supervisor``, which restarts a child that dies (``make up``, the fault tests).

The supervisor's rule: a child that exits while the shop runs is started again after a
back-off (``Backoff``: 1 s, doubled at each quick exit, at most 30 s; back to 1 s once it has
stayed up 30 s). One that exits quickly ``give_up_after`` times in a row (a process that cannot
start: a bad setting, a port taken) is given up on and the rest keep running; what it did goes
to the console and to ``supervisor.log`` beside the children's logs, and a line to its own log.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
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


@dataclass(frozen=True)
class Backoff:
    """When a dead child is started again: ``first_s`` after an exit, doubled for each exit
    within ``stable_s`` of its start, at most ``cap_s``; given up after ``give_up_after``
    such quick exits in a row."""

    first_s: float = 1.0
    cap_s: float = 30.0
    stable_s: float = 30.0
    give_up_after: int = 6

    def delay_s(self, quick_exits: int) -> float:
        return float(min(self.cap_s, self.first_s * 2 ** max(quick_exits - 1, 0)))


def exit_status(returncode: int) -> int:
    """As a shell shows it: a child killed by signal N exited with 128 + N (SIGKILL: 137)."""
    return 128 - returncode if returncode < 0 else returncode


def seconds(value: float) -> str:
    return f"{value:g} s"


@dataclass
class Supervised:
    child: Child
    started_at: float = 0.0
    quick_exits: int = 0
    restarts: int = 0
    given_up: bool = False
    ready: asyncio.Event = field(default_factory=asyncio.Event)


class Supervisor:
    """Children started, waited for, kept running (restarted with ``Backoff``) and stopped::

    async with Supervisor(shop.processes(), log_dir, say) as supervisor:
        supervisor.kill("orders#2")            # SIGKILL one replica
        await supervisor.wait_ready("orders#2")  # restarted and answering again
    """

    def __init__(
        self,
        specs: Iterable[Process],
        log_dir: Path,
        say: Callable[[str], None] | None = None,
        backoff: Backoff | None = None,
    ) -> None:
        self.log_dir = log_dir
        self.backoff = backoff or Backoff()
        self._say = say
        self._children = {spec.name: Supervised(Child(spec, log_dir)) for spec in specs}
        self._stopping = asyncio.Event()
        self._tasks: list[asyncio.Task[None]] = []

    @property
    def names(self) -> list[str]:
        return list(self._children)

    def replicas(self, service: str) -> list[str]:
        """The names of a service's processes (``orders#1``, ``orders#2``...)."""
        return [name for name, s in self._children.items() if s.child.spec.service == service]

    def pid(self, name: str) -> int:
        process = self._children[name].child.process
        if process is None or process.returncode is not None:
            raise LookupError(f"{name} is not running")
        return process.pid

    def kill(self, name: str, signum: int = signal.SIGKILL) -> int:
        """Send ``signum`` to one child; return its pid. The supervisor restarts it."""
        pid = self.pid(name)
        self._children[name].ready.clear()
        os.kill(pid, signum)
        return pid

    def restarts(self, name: str) -> int:
        return self._children[name].restarts

    def given_up(self, name: str) -> bool:
        return self._children[name].given_up

    def running(self, name: str) -> bool:
        process = self._children[name].child.process
        return process is not None and process.returncode is None

    async def wait_ready(self, name: str) -> None:
        await self._children[name].ready.wait()

    def say(self, text: str) -> None:
        """To the console and to ``supervisor.log``."""
        if self._say is not None:
            self._say(text)
        self.log_dir.mkdir(parents=True, exist_ok=True)
        stamp = datetime.now(UTC).isoformat(timespec="milliseconds")
        with (self.log_dir / "supervisor.log").open("a") as log:
            log.write(f"{stamp} {text}\n")

    def note(self, child: Child, text: str) -> None:
        """``say``, and the same line in the child's own log."""
        self.say(text)
        with child.log_path.open("a") as log:
            log.write(f"[supervisor] {text}\n")

    async def start(self, wait: bool = True) -> None:
        """Start every child in order; with ``wait``, until each answers (a child that exits
        meanwhile is a ``SetupError``: nothing is restarted before the shop was up once)."""
        children = [s.child for s in self._children.values()]
        for supervised in self._children.values():
            await supervised.child.start()
            supervised.started_at = time.monotonic()
        if wait:
            await wait_ready(children, self._say)
            for supervised in self._children.values():
                supervised.ready.set()
        else:
            for supervised in self._children.values():
                self._tasks.append(asyncio.create_task(self._until_ready(supervised)))
        self._tasks += [asyncio.create_task(self._keep(s)) for s in self._children.values()]

    async def _keep(self, supervised: Supervised) -> None:
        child = supervised.child
        while child.process is not None:
            returncode = await child.process.wait()
            if self._stopping.is_set():
                return
            supervised.ready.clear()
            quick = time.monotonic() - supervised.started_at < self.backoff.stable_s
            supervised.quick_exits = supervised.quick_exits + 1 if quick else 0
            status = exit_status(returncode)
            if supervised.quick_exits >= self.backoff.give_up_after:
                supervised.given_up = True
                self.note(child, f"{child.name} exited with {status}, {supervised.quick_exits} "
                                 "times in a row soon after starting; giving up on it (the rest "
                                 "keep running)")  # fmt: skip
                return
            delay = self.backoff.delay_s(max(supervised.quick_exits, 1))
            self.note(child, f"{child.name} exited with {status}; restarting in {seconds(delay)}")
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return
            await child.start()
            supervised.started_at = time.monotonic()
            supervised.restarts += 1
            self._tasks.append(asyncio.create_task(self._until_ready(supervised)))

    async def _until_ready(self, supervised: Supervised) -> None:
        child = supervised.child
        process = child.process
        timeout = aiohttp.ClientTimeout(total=2)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while process is child.process and not child.exited():
                if await is_ready(session, child.spec.ready_url):
                    supervised.ready.set()
                    if supervised.restarts:
                        self.say(f"{child.name} is up again ({child.spec.ready_url})")
                    return
                await asyncio.sleep(0.3)

    async def stop(self) -> None:
        self._stopping.set()
        await stop_all([s.child for s in self._children.values()])
        tasks, self._tasks = self._tasks, []
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def __aenter__(self) -> Supervisor:
        try:
            await self.start()
        except BaseException:
            await self.stop()
            raise
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.stop()
