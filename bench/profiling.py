"""Where the checkout benchmark's CPU goes: CPU time per process group from /proc, and
``py-spy`` profiles of the services summarised by what the code does."""

from __future__ import annotations

import collections
import contextlib
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

PROFILE = os.environ.get("BENCH_PROFILE", "") not in ("", "0")


# ---------------------------------------------------------------------------- CPU and py-spy


CLK_TCK = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime


def parent_pid(pid: int) -> int:
    try:
        return int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, IndexError, ValueError):
        return 0


def parent_cmdline(pid: int) -> str:
    try:
        ppid = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[1]
        return Path(f"/proc/{ppid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except (OSError, IndexError):
        return ""


def process_groups(
    services: dict[str, int],
    mark: str = "bench-checkout",
    databases: tuple[str, ...] = (),
) -> dict[str, list[int]]:
    """Every process that works for the shop here, grouped: services, PostgreSQL, RabbitMQ...
    (nginx is the one whose command line or parent's names the benchmark's ``mark``). With
    ``databases``, PostgreSQL's backends count only when connected to one of them (other
    sessions' tests share the server); its background processes (WAL writer...) always do."""
    groups: dict[str, list[int]] = {name: [pid] for name, pid in services.items()}
    groups.update({"postgresql": [], "rabbitmq": [], "nginx": [], "smtp sink": []})
    groups["load generator"] = [os.getpid()]
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmd = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        if "postgres" in cmd and ("postgres:" in cmd or "/bin/postgres" in cmd):
            if databases and is_backend(cmd) and not any(db in cmd for db in databases):
                continue
            groups["postgresql"].append(int(entry.name))
        elif "beam.smp" in cmd or "erl_child_setup" in cmd:
            groups["rabbitmq"].append(int(entry.name))
        elif "nginx" in cmd and (mark in cmd or mark in parent_cmdline(int(entry.name))):
            groups["nginx"].append(int(entry.name))
        elif "deploy.smtp_sink" in cmd and parent_pid(int(entry.name)) == os.getpid():
            groups["smtp sink"].append(int(entry.name))  # ours, not another session's
    return groups


def is_backend(cmd: str) -> bool:
    """A PostgreSQL process serving a client connection (its title names the client)."""
    return "(" in cmd or "[local]" in cmd


def cpu_snapshot(groups: dict[str, list[int]]) -> dict[str, float]:
    return {name: sum(cpu_seconds(pid) for pid in pids) for name, pids in groups.items()}


def machine_cpu_seconds() -> float:
    fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
    busy = sum(int(v) for i, v in enumerate(fields) if i not in (3, 4))  # minus idle, iowait
    return busy / CLK_TCK


@contextlib.contextmanager
def py_spy(services: dict[str, int], seconds: float, outdir: Path) -> Iterator[dict[str, Path]]:
    """``py-spy record`` (raw collapsed stacks) on each service for ``seconds``."""
    spy = shutil.which("py-spy") or str(Path(sys.executable).with_name("py-spy"))
    outputs = {name: outdir / f"{name}.txt" for name in services}
    procs = []
    if PROFILE and Path(spy).exists():
        for name, pid in services.items():
            procs.append(
                subprocess.Popen(
                    [
                        spy,
                        "record",
                        "--pid",
                        str(pid),
                        "--duration",
                        str(int(seconds)),
                        "--rate",
                        "50",
                        "--format",
                        "raw",
                        "--output",
                        str(outputs[name]),
                        "--nonblocking",
                        "--gil",
                    ],
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
    try:
        yield outputs if procs else {}
    finally:
        for proc in procs:
            try:
                proc.wait(seconds + 30)
            except subprocess.TimeoutExpired:
                proc.terminate()


# Inclusive time by what the code does; a sample counts for the first category that matches
# a frame of its stack, from the innermost frame outwards.
CATEGORIES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (
        "logging (structlog, redaction, access log)",
        ("/logging/", "structlog", "shared/logging", "web_log.py"),
    ),
    ("JWT verification", ("jwt/",)),
    ("PD crypto (vault, outbox cipher)", ("customers/crypto.py", "cryptography")),
    ("email composition (stdlib email)", ("/email/",)),
    ("pydantic", ("pydantic",)),
    ("PostgreSQL client (asyncpg)", ("asyncpg",)),
    ("AMQP client (aio-pika/aiormq/pamqp)", ("aio_pika", "aiormq", "pamqp")),
    ("HTTP client (aiohttp client)", ("aiohttp/client", "aiohttp/connector")),
    ("HTTP server (aiohttp web)", ("aiohttp/web", "aiohttp/http_", "aiohttp/_http")),
    ("event loop and sockets", ("asyncio/",)),
)


def categorise(path: Path, total: int) -> dict[str, float]:
    counts: collections.Counter[str] = collections.Counter()
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        frames = stack.split(";")[::-1]
        category = next(
            (
                name
                for frame in frames
                for name, needles in CATEGORIES
                if any(n in frame for n in needles)
            ),
            "our code and the rest",
        )
        counts[category] += int(count_text)
    return {name: count / total for name, count in counts.most_common()}


def summarise_profile(path: Path, top: int = 12) -> list[str]:
    """Self and inclusive time of the hottest functions in py-spy's collapsed stacks."""
    if not path.exists():
        return ["  (no profile)"]
    own: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    idle = 0
    for line in path.read_text().splitlines():
        stack, _, count_text = line.rpartition(" ")
        if not stack:
            continue
        count = int(count_text)
        frames = [
            f.split(" (")[0] + " (" + f.split(" (")[-1].split(":")[0].rsplit("/", 1)[-1] + ")"
            if " (" in f
            else f
            for f in stack.split(";")
        ]
        total += count
        if frames[-1].startswith(("select (", "poll (", "_run_once (selectors")):
            idle += count
        own[frames[-1]] += count
        for frame in set(frames):
            inclusive[frame] += count
    if not total:
        return ["  (empty profile)"]
    lines = [f"  samples holding the GIL: {total} (in select: {idle / total:.0%})", "  where:"]
    for category, share in categorise(path, total).items():
        lines.append(f"  {share:5.1%}  {category}")
    lines.append("  self%  function")
    for frame, count in own.most_common(top):
        lines.append(f"  {count / total:5.1%}  {frame}")
    lines.append("  incl%  function (inclusive, selected)")
    interesting = [
        (f, c)
        for f, c in inclusive.most_common(400)
        if not f.startswith(("<module>", "run (", "_run (", "run_forever", "_run_once", "main ("))
    ]
    for frame, count in interesting[:top]:
        lines.append(f"  {count / total:5.1%}  {frame}")
    return lines
