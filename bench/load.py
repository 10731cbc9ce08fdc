"""A closed-loop load generator: a fixed number of operations (GETs, or any awaitable) in
flight for a while, and the figures (requests/s, p50, p99); with the server under test in a
process of its own and the wait until it answers."""

from __future__ import annotations

import asyncio
import contextlib
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass

import aiohttp

from deploy.gateway import free_port

DURATION_S = 8.0
IN_FLIGHT = 32

# The next request: its URL and its headers.
NextRequest = Callable[[], tuple[str, dict[str, str]]]


@dataclass(frozen=True)
class Spawned:
    base: str  # http://127.0.0.1:PORT
    pid: int


@contextlib.contextmanager
def spawned(module: str, *args: str) -> Iterator[Spawned]:
    """``python -m module *args PORT`` on a free port, terminated at the end."""
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", module, *args, str(port)])
    try:
        yield Spawned(f"http://127.0.0.1:{port}", process.pid)
    finally:
        process.terminate()
        process.wait(10)


async def wait_ready(url: str) -> None:
    async with aiohttp.ClientSession() as session:
        for _ in range(100):
            try:
                async with session.get(url) as response:
                    if response.status < 500:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.1)
    raise RuntimeError(f"{url} did not answer")


async def closed_loop(
    operation: Callable[[], Awaitable[None]], duration_s: float, in_flight: int
) -> list[float]:
    """Run ``operation`` from ``in_flight`` workers for ``duration_s``; the latency of each."""
    latencies: list[float] = []
    deadline = time.perf_counter() + duration_s

    async def worker() -> None:
        while time.perf_counter() < deadline:
            started = time.perf_counter()
            await operation()
            latencies.append(time.perf_counter() - started)

    await asyncio.gather(*(worker() for _ in range(in_flight)))
    return latencies


def http_get(
    session: aiohttp.ClientSession, next_request: NextRequest
) -> Callable[[], Awaitable[None]]:
    """A GET of ``next_request()`` whose answer must be a 200."""

    async def get() -> None:
        url, headers = next_request()
        async with session.get(url, headers=headers) as response:
            await response.read()
            assert response.status == 200, response.status

    return get


def figures(latencies: list[float], elapsed: float) -> dict[str, float]:
    ordered = sorted(latencies)
    return {
        "requests": float(len(ordered)),
        "rps": len(ordered) / elapsed,
        "p50_ms": ordered[len(ordered) // 2] * 1000,
        "p99_ms": ordered[int(len(ordered) * 0.99)] * 1000,
    }


async def load(
    next_request: NextRequest, duration_s: float = DURATION_S, in_flight: int = IN_FLIGHT
) -> dict[str, float]:
    """GET ``next_request()`` with ``in_flight`` requests in flight for ``duration_s``; every
    answer must be a 200."""
    connector = aiohttp.TCPConnector(limit=in_flight)
    async with aiohttp.ClientSession(connector=connector) as session:
        started = time.perf_counter()
        latencies = await closed_loop(http_get(session, next_request), duration_s, in_flight)
        elapsed = time.perf_counter() - started
    return figures(latencies, elapsed)
