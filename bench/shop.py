"""The whole shop for a benchmark of a customer's rights (export, erasure): the four services
as processes (``deploy.stack``) on fresh bench databases and a vhost, the SMTP sink, nginx in
front, and the customers who sign up and sign in through the API.

No courier or bank stand-in: these benchmarks place no order through the flow (their orders
are seeded, ``bench.customer_data``).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import tempfile
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

from bench.env import Servers, bench_database, bench_servers, bench_vhost
from bench.shoppers import Api, register_and_login
from deploy.gateway import SERVICES, NginxGateway
from deploy.local_secrets import Secrets, ensure_secrets
from deploy.processes import ROOT, Child, stop_all, wait_ready
from deploy.stack import DATABASES, STANDINS, Ports, Shop
from services.catalog.seed import seed_demo_catalog
from shared.db import create_pool

LOG_DIR = ROOT / "var" / "log" / "bench"

# Cheap argon2 so that signing up hundreds of customers takes seconds (a benchmark that
# measures a password check gives its customers a hash with the production cost instead).
CHEAP_ARGON2 = {"argon2_time_cost": 1, "argon2_memory_kib": 8 * 1024, "access_token_ttl_s": 3600}


@dataclass(frozen=True)
class RunningShop:
    base: str  # the gateway
    dsns: dict[str, str]
    amqp_url: str
    servers: Servers
    secrets: Secrets
    children: list[Child]

    @property
    def vhost(self) -> str:
        return self.amqp_url.rsplit("/", 1)[1]

    def pids(self) -> dict[str, int]:
        return {
            c.name: c.process.pid
            for c in self.children
            if c.name in SERVICES and c.process is not None
        }


async def catalog_products(dsn: str) -> list[dict[str, Any]]:
    """The demo catalog, seeded; its products' ids, skus, names and prices."""
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await seed_demo_catalog(conn)
            rows = await conn.fetch("SELECT id, sku, name, price FROM products ORDER BY sku")
        return [dict(row) for row in rows]
    finally:
        await pool.close()


@contextlib.asynccontextmanager
async def running_shop(
    name: str, tuning: Mapping[str, Mapping[str, Any]]
) -> AsyncIterator[RunningShop]:
    """Every service of the shop running on throw-away databases, behind nginx."""
    level = os.environ.get("BENCH_LOG_LEVEL")
    with (
        bench_servers() as servers,
        bench_vhost(servers) as amqp_url,
        tempfile.TemporaryDirectory(prefix=f"bench-{name}-") as tmp,
    ):
        async with contextlib.AsyncExitStack() as exits:
            dsns = {
                name: await exits.enter_async_context(bench_database(servers, name))
                for name in DATABASES
            }
            secrets = ensure_secrets(Path(tmp) / "secrets")
            tuned = {
                service: {**tuning.get(service, {}), **({"log_level": level} if level else {})}
                for service in SERVICES
            }
            shop = Shop(Ports.free(), dsns, amqp_url, secrets, tuning=tuned)
            children = [Child(s, LOG_DIR) for s in shop.processes() if s.name not in STANDINS]
            try:
                for child in children:
                    await child.start()
                await wait_ready(children)
                gateway = NginxGateway(shop.ports.gateway, shop.upstreams(), Path(tmp) / "nginx")
                base = await exits.enter_async_context(gateway)
                yield RunningShop(base, dsns, amqp_url, servers, secrets, children)
            finally:
                await stop_all(children)


@dataclass(frozen=True)
class Customer:
    id: uuid.UUID
    email: str
    password: str
    token: str


async def sign_up(
    session: aiohttp.ClientSession, base: str, count: int, password: str | None = None
) -> list[Customer]:
    """``count`` customers registered and signed in through the gateway, as a browser would;
    each with a password of their own unless ``password`` is given."""
    api = Api(session, base)
    status, policy = await api.call("GET", "/api/customers/policy")
    assert status == 200, policy
    limit = asyncio.Semaphore(8)
    run = uuid.uuid4().hex[:6]

    async def one(n: int) -> Customer:
        email = f"bench-{run}-{n}@example.kz"
        secret = password or f"bench password {run} {n}"
        async with limit:
            customer_id, token = await register_and_login(
                api, n, email, secret, policy["version"], marketing_email=True
            )
        return Customer(customer_id, email, secret, token)

    return list(await asyncio.gather(*(one(n) for n in range(count))))
