"""The shop of ``deploy.stack`` as real processes, with replicas, for the fault suite.

Every service runs ``REPLICAS`` times (``python -m services.<name> serve`` on ports of its
own, the same settings otherwise), nginx balances each service's replicas, and this process
holds the outside world: the SMTP sink and the sandbox courier (their memory is what the
tests count). ``kill`` SIGKILLs a replica; ``restart`` starts it again as a supervisor would.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from deploy.gateway import SERVICES, NginxGateway
from deploy.local_secrets import ensure_secrets
from deploy.processes import Child, stop_all, wait_ready
from deploy.sandbox_courier import SandboxCourier
from deploy.smtp_sink import SmtpSink
from deploy.stack import Ports, Shop
from shared.db import create_pool
from shared.settings import ServiceSettings
from tests import infra
from tests.e2e.stack import TUNING, databases, merged, seed_catalog

REPLICAS = 2
STOCK = 1_000_000
MAX_MAILS = 1_000_000  # the sink keeps every mail of a run (its default: the last 1000)
# The retry tiers of production: the end-to-end tests' 100 and 300 ms are used up before a
# killed replica's requests in flight are answered by the other.
RETRIES = {"retry_delays_ms": ServiceSettings.model_fields["retry_delays_ms"].default}
FAULT_TUNING: dict[str, dict[str, Any]] = {
    "catalog": RETRIES,
    "orders": {
        **RETRIES,
        "checkout_limit_per_account_per_min": 1_000_000,
        "checkout_limit_per_network_per_min": 1_000_000,
    },
    "customers": {**RETRIES, "access_token_ttl_s": 3600},
    "notifications": RETRIES,
}


@dataclass
class Replica:
    service: str
    index: int
    child: Child

    @property
    def url(self) -> str:
        return self.child.spec.ready_url.removesuffix("/healthz")


@dataclass
class FaultShop:
    shop: Shop
    gateway_url: str
    dsns: dict[str, str]
    replicas: dict[str, list[Replica]]
    sink: SmtpSink
    courier: SandboxCourier
    log_dir: Path

    def every(self) -> list[Replica]:
        return [r for group in self.replicas.values() for r in group]

    async def kill(self, replica: Replica) -> None:
        """SIGKILL: no shutdown, no acks, no commits; what was in flight is cut."""
        process = replica.child.process
        assert process is not None
        with contextlib.suppress(ProcessLookupError):
            process.send_signal(signal.SIGKILL)
        await process.wait()

    async def restart(self, replica: Replica) -> None:
        await replica.child.start()
        await wait_ready([replica.child])

    async def readiness(self, session: aiohttp.ClientSession) -> dict[str, int]:
        """``/readyz`` status of every replica (0: not answering)."""
        found = {}
        for replica in self.every():
            try:
                async with session.get(replica.url + "/readyz") as response:
                    found[replica.child.name] = response.status
            except (aiohttp.ClientError, TimeoutError):
                found[replica.child.name] = 0
        return found


async def stock_everything(dsn: str) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        await pool.execute("UPDATE products SET stock = $1", STOCK)
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def fault_shop(
    servers: infra.Servers,
    amqp_url: str,
    workdir: Path,
    tuning: Mapping[str, Mapping[str, Any]] | None = None,
    replicas: int = REPLICAS,
) -> AsyncIterator[FaultShop]:
    async with databases(servers) as dsns:
        await seed_catalog(dsns["catalog"])
        await stock_everything(dsns["catalog"])
        shop = Shop(
            Ports.free(replicas=replicas), dsns, amqp_url, ensure_secrets(workdir / "secrets"),
            public_host="127.0.0.1",
            tuning=merged(merged(TUNING, FAULT_TUNING), tuning or {}),
        )  # fmt: skip
        log_dir = workdir / "logs"
        groups: dict[str, list[Replica]] = {name: [] for name in SERVICES}
        for spec in shop.service_processes():  # deploy.stack's replicas
            group = groups[spec.service or spec.name]
            group.append(Replica(spec.service or spec.name, len(group), Child(spec, log_dir)))
        children = [r.child for group in groups.values() for r in group]
        async with contextlib.AsyncExitStack() as stack:
            sink = await stack.enter_async_context(
                SmtpSink(smtp_port=shop.ports.smtp, max_messages=MAX_MAILS)
            )
            courier = await stack.enter_async_context(SandboxCourier(**shop.courier_options()))
            try:
                for child in children:
                    await child.start()
                await wait_ready(children)
                # The services call each other through nginx's balanced listeners too.
                gateway = NginxGateway(
                    shop.ports.gateway, shop.upstreams(), workdir / "nginx",
                    balanced=shop.ports.balanced(),
                )  # fmt: skip
                await stack.enter_async_context(gateway)
                yield FaultShop(shop, shop.gateway_url, dsns, groups, sink, courier, log_dir)
            finally:
                await stop_all(children)


KILLED_FOR_S = 2.0


async def kill_and_restart(shop: FaultShop, victims: list[Replica], events: list[str]) -> None:
    """SIGKILL ``victims`` together, and start them again ``KILLED_FOR_S`` later."""
    await asyncio.gather(*(shop.kill(r) for r in victims))
    events.append("SIGKILLed " + ", ".join(r.child.name for r in victims))
    await asyncio.sleep(KILLED_FOR_S)
    await asyncio.gather(*(shop.restart(r) for r in victims))  # as a supervisor would
    events.append("restarted " + ", ".join(r.child.name for r in victims))


async def wait_until(check: Any, timeout: float, interval: float = 0.3) -> bool:
    """Poll ``await check()`` until true or ``timeout``; whether it became true."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while not await check():
                await asyncio.sleep(interval)
            return True
    return False
