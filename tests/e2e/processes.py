"""The whole shop as processes, as ``make up`` runs it, with several replicas per service:
the supervisor of ``deploy.processes`` keeps them running, nginx balances over them.
For the tests that kill a replica (``supervisor.kill("orders#2")``)::

    async with replicated_shop(servers, amqp_url, tmp_path, replicas=2) as running:
        running.supervisor.replicas("orders")      # ["orders#1", "orders#2"]
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.gateway import NginxGateway
from deploy.local_secrets import ensure_secrets
from deploy.processes import Backoff, Supervisor
from deploy.stack import Ports, Shop
from tests import infra
from tests.e2e.stack import TUNING, databases, merged, seed_catalog

# Quick restarts in tests; a process must stay up 5 s to count as started well.
TEST_BACKOFF = Backoff(first_s=0.2, cap_s=2.0, stable_s=5.0)


@dataclass
class RunningShop:
    shop: Shop
    supervisor: Supervisor
    gateway: NginxGateway
    dsns: dict[str, str]
    log_dir: Path

    @property
    def gateway_url(self) -> str:
        return self.gateway.base_url


@contextlib.asynccontextmanager
async def replicated_shop(
    servers: infra.Servers,
    amqp_url: str,
    workdir: Path,
    replicas: int = 2,
    tuning: Mapping[str, Mapping[str, Any]] | None = None,
    backoff: Backoff = TEST_BACKOFF,
) -> AsyncIterator[RunningShop]:
    """Every part of ``deploy.stack`` as a child process (``replicas`` per service) on fresh
    databases and ``amqp_url``'s vhost, and the gateway in front; logs in ``workdir/log``."""
    async with databases(servers) as dsns:
        await seed_catalog(dsns["catalog"])
        shop = Shop(
            Ports.free(replicas),
            dsns,
            amqp_url,
            ensure_secrets(workdir / "secrets"),
            public_host="127.0.0.1",
            tuning=merged(TUNING, tuning or {}),
        )
        log_dir = workdir / "log"
        async with Supervisor(shop.processes(), log_dir, backoff=backoff) as supervisor:
            gateway = NginxGateway(
                shop.ports.gateway,
                shop.upstreams(),
                workdir / "nginx",
                balanced=shop.ports.balanced(),
            )
            async with gateway:
                yield RunningShop(shop, supervisor, gateway, dsns, log_dir)
