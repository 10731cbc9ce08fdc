"""A closed-loop load generator: a fixed number of GETs in flight for a while, and the
figures (requests/s, p50, p99); with the readiness wait of a server under test."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable

import aiohttp

DURATION_S = 8.0
IN_FLIGHT = 32

# The next request: its URL and its headers.
NextRequest = Callable[[], tuple[str, dict[str, str]]]


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


async def load(next_request: NextRequest) -> dict[str, float]:
    """GET ``next_request()`` with IN_FLIGHT requests in flight for DURATION_S; every
    answer must be a 200."""
    latencies: list[float] = []
    deadline = time.perf_counter() + DURATION_S
    connector = aiohttp.TCPConnector(limit=IN_FLIGHT)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def worker() -> None:
            while time.perf_counter() < deadline:
                url, headers = next_request()
                started = time.perf_counter()
                async with session.get(url, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "rps": len(latencies) / elapsed,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[int(len(latencies) * 0.99)] * 1000,
    }
