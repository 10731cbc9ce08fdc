"""The supervisor of ``deploy.processes`` with real child processes: a process that dies is
started again after a back-off and the supervisor says so; one that cannot start is backed
off, then given up on, while the others keep running; stopping stops everything."""

from __future__ import annotations

import asyncio
import signal
from pathlib import Path

from deploy.gateway import free_port
from deploy.processes import Backoff, Supervisor, exit_status
from deploy.stack import Process

HANG_GUARD_S = 60  # only against a hung run; nothing here is timed
QUICK = Backoff(first_s=0.05, cap_s=0.2, stable_s=30.0, give_up_after=5)


def web_server(name: str) -> Process:
    """A child that answers HTTP on a port of its own until it is stopped."""
    port = free_port()
    return Process(
        name, ["-m", "http.server", str(port), "--bind", "127.0.0.1"], {},
        f"http://127.0.0.1:{port}/",
    )  # fmt: skip


def crashing(name: str) -> Process:
    return Process(name, ["-c", "import sys; sys.exit(3)"], {}, "http://127.0.0.1:9/")


def said(log_dir: Path) -> list[str]:
    return [line.split(" ", 1)[1] for line in (log_dir / "supervisor.log").read_text().splitlines()]


def test_a_signal_is_an_exit_status_as_the_shell_shows_it() -> None:
    assert exit_status(-signal.SIGKILL) == 137
    assert exit_status(3) == 3


def test_back_off_doubles_and_is_capped() -> None:
    backoff = Backoff(first_s=1, cap_s=30)
    assert [backoff.delay_s(n) for n in range(1, 8)] == [1, 2, 4, 8, 16, 30, 30]


async def test_a_killed_process_is_restarted_and_ready_again(tmp_path: Path) -> None:
    console: list[str] = []
    async with asyncio.timeout(HANG_GUARD_S):
        async with Supervisor(
            [web_server("web#1"), web_server("web#2")], tmp_path, console.append, QUICK
        ) as supervisor:
            other = supervisor.pid("web#2")
            killed = supervisor.kill("web#1")
            await supervisor.wait_ready("web#1")
            assert supervisor.pid("web#1") != killed
            assert supervisor.pid("web#2") == other
            assert supervisor.restarts("web#1") == 1
        assert not supervisor.running("web#1")
        assert not supervisor.running("web#2")
    lines = said(tmp_path)
    assert lines[0] == "web#1 exited with 137; restarting in 0.05 s"
    assert lines[1].startswith("web#1 is up again")
    assert any(line.startswith("web#1 exited with 137") for line in console)
    own_log = (tmp_path / "web#1.log").read_text()
    assert "[supervisor] web#1 exited with 137; restarting in 0.05 s" in own_log


async def test_a_process_that_cannot_start_is_backed_off_then_given_up(tmp_path: Path) -> None:
    async with asyncio.timeout(HANG_GUARD_S):
        supervisor = Supervisor([web_server("web"), crashing("broken")], tmp_path, None, QUICK)
        try:
            await supervisor.start(wait=False)
            while not supervisor.given_up("broken"):
                await asyncio.sleep(0.05)
            await supervisor.wait_ready("web")
            assert supervisor.running("web")
        finally:
            await supervisor.stop()
    assert said(tmp_path) == [
        "broken exited with 3; restarting in 0.05 s",
        "broken exited with 3; restarting in 0.1 s",
        "broken exited with 3; restarting in 0.2 s",
        "broken exited with 3; restarting in 0.2 s",
        "broken exited with 3, 5 times in a row soon after starting; giving up on it "
        "(the rest keep running)",
    ]


async def test_stopping_stops_every_child_and_restarts_none(tmp_path: Path) -> None:
    async with asyncio.timeout(HANG_GUARD_S):
        supervisor = Supervisor([web_server("a"), web_server("b")], tmp_path, None, QUICK)
        await supervisor.start()
        await supervisor.stop()
        await asyncio.sleep(0.2)
        assert not supervisor.running("a")
        assert not supervisor.running("b")
        assert supervisor.restarts("a") == supervisor.restarts("b") == 0
    assert not (tmp_path / "supervisor.log").exists()
