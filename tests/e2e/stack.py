"""The whole shop on this machine for end-to-end tests: four services, nginx, SMTP, courier, bank.

The parts, their settings and start order are ``deploy.stack``'s, the same description
``make up`` runs; here every part runs in this process (so tests read its logs and the
stand-ins' memory) on free ports, against fresh databases of its own and one fresh RabbitMQ
vhost, with the tuning below (cheap argon2, fast retries and maintenance). nginx is the
real gateway in front of the services.
"""

from __future__ import annotations

import contextlib
import subprocess
import uuid
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web

from deploy.gateway import NginxGateway
from deploy.local_secrets import ensure_secrets
from deploy.processes import Child, stop_all, wait_ready
from deploy.sandbox_bank import SandboxBank
from deploy.sandbox_courier import SandboxCourier
from deploy.sandbox_sms import SandboxSms
from deploy.smtp_sink import SmtpSink
from deploy.stack import DATABASES, KEYSTORE, Ports, Process, Shop, secrets_in
from services.catalog.app import create_app as catalog_app
from services.catalog.config import Settings as CatalogSettings
from services.catalog.seed import seed_demo_catalog
from services.customers.app import create_app as customers_app
from services.customers.config import Settings as CustomersSettings
from services.customers.keystore import migrate_keystore
from services.notifications.app import create_app as notifications_app
from services.notifications.config import Settings as NotificationsSettings
from services.orders.app import create_app as orders_app
from services.orders.config import Settings as OrdersSettings
from shared.auth import TokenIssuer
from shared.db import create_pool
from shared.migrations import migrate
from shared.service import running_app
from tests import infra
from tests.e2e.shopper import ApiClient

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "orders", "customers", "notifications")

# Over deploy.stack's description: fast enough for tests, otherwise the same shop.
TUNING: dict[str, dict[str, Any]] = {
    "catalog": {"retry_delays_ms": (100, 300)},
    "orders": {
        "retry_delays_ms": (100, 300),
        "maintenance_interval_s": 0.2,
        "checkout_limit_per_network_per_min": 10_000,
    },
    "customers": {
        "retry_delays_ms": (100, 300),
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8 * 1024,
    },
    "notifications": {"retry_delays_ms": (100, 300)},
    "sandbox_courier": {"confirm_delay_s": 0.2},
    "sandbox_sms": {"retry_delays_s": (0.2, 0.5, 1.0, 2.0)},
}


@dataclass
class Stack:
    gateway_url: str
    amqp_url: str
    dsns: dict[str, str]
    service_urls: dict[str, str]
    sink: SmtpSink
    courier: SandboxCourier
    bank: SandboxBank
    sms: SandboxSms
    gateway: NginxGateway
    internal_token: str
    tokens: TokenIssuer  # access tokens as customers signs them (staff roles for the tests)
    secrets_in_use: list[str] = field(default_factory=list)
    shop: Shop | None = None  # the description this stack runs


def staff(session: aiohttp.ClientSession, shop: Stack, role: str) -> ApiClient:
    """A staff member with one role, calling through the gateway."""
    client = ApiClient(session, shop.gateway_url)
    client.token = shop.tokens.issue(uuid.uuid4(), "staff", frozenset({role}))
    return client


def dead_letters(shop: Stack, servers: infra.Servers) -> dict[str, int]:
    """How many messages each dead-letter queue of the shop's vhost holds."""
    vhost = shop.amqp_url.rsplit("/", 1)[1]
    listing = subprocess.run(
        [*servers.rabbitmqctl, "list_queues", "-p", vhost, "name", "messages", "--quiet"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return {
        line.split()[0]: int(line.split()[1])
        for line in listing.splitlines()
        if line.split() and line.split()[0].endswith(".dead")
    }


@contextlib.asynccontextmanager
async def databases(servers: infra.Servers) -> AsyncIterator[dict[str, str]]:
    """A fresh migrated database per service, and customers' key store."""
    names = {name: f"t_{infra.run_token()}_{name}" for name in DATABASES}
    dsns: dict[str, str] = {}
    try:
        for service, name in names.items():
            dsns[service] = await infra.create_database(servers.pg_admin_dsn, name)
            if service == KEYSTORE:
                await migrate_keystore(dsns[service])
            else:
                await migrate(dsns[service], ROOT / "services" / service / "migrations", service)
        yield dsns
    finally:
        for name in names.values():
            await infra.drop_database(servers.pg_admin_dsn, name)


async def seed_catalog(dsn: str) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            await seed_demo_catalog(conn)
    finally:
        await pool.close()


def service_app(shop: Shop, name: str) -> web.Application:
    """One service's app with the settings the description gives it."""
    fields = shop.settings(name)
    if name == "catalog":
        return catalog_app(CatalogSettings(**fields))
    if name == "orders":
        return orders_app(OrdersSettings(**fields))
    if name == "customers":
        return customers_app(CustomersSettings(**fields))
    return notifications_app(NotificationsSettings(**fields))


def merged(
    base: Mapping[str, Mapping[str, Any]], extra: Mapping[str, Mapping[str, Any]]
) -> dict[str, dict[str, Any]]:
    return {part: {**base.get(part, {}), **extra.get(part, {})} for part in {*base, *extra}}


@contextlib.asynccontextmanager
async def service_children(shop: Shop, env: dict[str, str], logs: Path) -> AsyncIterator[None]:
    """The four services as ``python -m services.<name> serve``, with ``env`` on top."""
    children = [
        Child(
            Process(
                name,
                ["-m", f"services.{name}", "serve"],
                {**shop.service_env(name), **env},
                f"{shop.service_url(name)}/readyz",
            ),
            logs,
        )
        for name in SERVICES
    ]
    try:
        for child in children:
            await child.start()
        await wait_ready(children)
        yield
    finally:
        await stop_all(children)


@contextlib.asynccontextmanager
async def running_stack(
    servers: infra.Servers,
    amqp_url: str,
    workdir: Path,
    tuning: Mapping[str, Mapping[str, Any]] | None = None,
    service_processes: Mapping[str, str] | None = None,
) -> AsyncIterator[Stack]:
    """The shop of ``deploy.stack`` in this process; ``tuning`` adds settings per part.
    With ``service_processes`` (extra environment) the four services run as child processes
    instead, as ``make up`` runs them (their logs in ``workdir/logs``)."""
    async with databases(servers) as dsns:
        await seed_catalog(dsns["catalog"])
        shop = Shop(
            Ports.free(),
            dsns,
            amqp_url,
            ensure_secrets(workdir / "secrets"),
            public_host="127.0.0.1",
            tuning=merged(TUNING, tuning or {}),
        )
        ports = shop.ports
        async with contextlib.AsyncExitStack() as stack:
            sink = await stack.enter_async_context(SmtpSink(smtp_port=ports.smtp))
            courier = await stack.enter_async_context(SandboxCourier(**shop.courier_options()))
            bank = await stack.enter_async_context(SandboxBank(**shop.bank_options()))
            await stack.enter_async_context(running_app(bank.create_app(), port=ports.bank))
            sms = await stack.enter_async_context(SandboxSms(**shop.sms_options()))
            await sms.listen(port=ports.sms)
            if service_processes is None:
                for name in SERVICES:
                    app = service_app(shop, name)
                    await stack.enter_async_context(running_app(app, port=ports.services[name]))
            else:
                await stack.enter_async_context(
                    service_children(shop, dict(service_processes), workdir / "logs")
                )
            gateway = NginxGateway(ports.gateway, shop.upstreams(), workdir / "nginx")
            await stack.enter_async_context(gateway)
            yield Stack(
                gateway_url=shop.gateway_url,
                amqp_url=amqp_url,
                dsns=dsns,
                service_urls={name: shop.service_url(name) for name in SERVICES},
                sink=sink,
                courier=courier,
                bank=bank,
                sms=sms,
                gateway=gateway,
                internal_token=shop.secrets.read(shop.secrets.internal_token),
                tokens=TokenIssuer(shop.secrets.jwt_private.read_text()),
                secrets_in_use=secrets_in(shop),
                shop=shop,
            )
