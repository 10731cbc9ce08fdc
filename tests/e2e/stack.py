"""The whole shop on this machine for end-to-end tests: four services, nginx, SMTP, courier.

Each service runs in this process on its own port against its own fresh database; they
share one fresh RabbitMQ vhost; nginx is the real gateway in front of them. The SMTP sink
and the sandbox courier stand in for the outside world.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path

from deploy.gateway import NginxGateway, free_port
from deploy.sandbox_bank import SandboxBank
from deploy.sandbox_courier import SandboxCourier
from deploy.smtp_sink import SmtpSink
from services.catalog.app import create_app as catalog_app
from services.catalog.config import Settings as CatalogSettings
from services.catalog.seed import seed_demo_catalog
from services.customers.app import create_app as customers_app
from services.customers.config import Settings as CustomersSettings
from services.notifications.app import create_app as notifications_app
from services.notifications.config import Settings as NotificationsSettings
from services.orders.app import create_app as orders_app
from services.orders.config import Settings as OrdersSettings
from shared.auth import TokenIssuer, generate_signing_key_pem
from shared.db import create_pool
from shared.migrations import migrate
from shared.service import running_app
from tests import infra

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("catalog", "orders", "customers", "notifications")


@dataclass
class Stack:
    gateway_url: str
    amqp_url: str
    dsns: dict[str, str]
    service_urls: dict[str, str]
    sink: SmtpSink
    courier: SandboxCourier
    bank: SandboxBank
    gateway: NginxGateway
    internal_token: str
    tokens: TokenIssuer  # access tokens as customers signs them (staff roles for the tests)
    secrets_in_use: list[str] = field(default_factory=list)


@contextlib.asynccontextmanager
async def databases(servers: infra.Servers) -> AsyncIterator[dict[str, str]]:
    names = {service: f"t_{infra.run_token()}_{service}" for service in SERVICES}
    dsns: dict[str, str] = {}
    try:
        for service, name in names.items():
            dsns[service] = await infra.create_database(servers.pg_admin_dsn, name)
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


@contextlib.asynccontextmanager
async def running_stack(
    servers: infra.Servers, amqp_url: str, workdir: Path
) -> AsyncIterator[Stack]:
    private_pem, public_pem = generate_signing_key_pem()
    internal_token = secrets.token_urlsafe(24)
    courier_secret = secrets.token_urlsafe(24)
    bank_secret = secrets.token_urlsafe(24)
    master_key = base64.b64encode(os.urandom(32)).decode()
    blind_key = base64.b64encode(os.urandom(32)).decode()
    ports = {service: free_port() for service in SERVICES}
    urls = {service: f"http://127.0.0.1:{port}" for service, port in ports.items()}
    gateway_port = free_port()
    gateway_url = f"http://127.0.0.1:{gateway_port}"
    bank_port = free_port()
    bank_url = f"http://127.0.0.1:{bank_port}"
    common = {
        "amqp_url": amqp_url,
        "jwt_public_key": public_pem,
        "internal_token": internal_token,
        "retry_delays_ms": (100, 300),
    }
    async with databases(servers) as dsns:
        await seed_catalog(dsns["catalog"])
        async with SmtpSink() as sink:
            apps = {
                "catalog": catalog_app(CatalogSettings(database_url=dsns["catalog"], **common)),
                "orders": orders_app(
                    OrdersSettings(
                        database_url=dsns["orders"],
                        catalog_url=urls["catalog"],
                        courier_secrets={"sandbox": courier_secret},
                        bank_secrets={"sandbox": bank_secret},
                        bank_public_url=bank_url,
                        maintenance_interval_s=0.2,
                        checkout_limit_per_network_per_min=10_000,
                        cart_cookie_secure=False,
                        **common,
                    )
                ),
                "customers": customers_app(
                    CustomersSettings(
                        database_url=dsns["customers"],
                        jwt_private_key=private_pem,
                        master_key=master_key,
                        blind_index_key=blind_key,
                        pd_store_region="KZ",
                        orders_url=urls["orders"],
                        notifications_url=urls["notifications"],
                        argon2_time_cost=1,
                        argon2_memory_kib=8 * 1024,
                        **common,
                    )
                ),
                "notifications": notifications_app(
                    NotificationsSettings(
                        database_url=dsns["notifications"],
                        customers_url=urls["customers"],
                        smtp_host="127.0.0.1",
                        smtp_port=sink.smtp_port,
                        public_base_url=gateway_url,
                        **common,
                    )
                ),
            }
            async with contextlib.AsyncExitStack() as stack:
                for service in SERVICES:
                    await stack.enter_async_context(running_app(apps[service], port=ports[service]))
                gateway = NginxGateway(gateway_port, urls, workdir / "nginx")
                await stack.enter_async_context(gateway)
                courier = await stack.enter_async_context(
                    SandboxCourier(
                        amqp_url,
                        callback_base_url=gateway_url,
                        secret=courier_secret,
                        confirm_delay_s=0.2,
                    )
                )
                bank = await stack.enter_async_context(
                    SandboxBank(
                        amqp_url, callback_base_url=gateway_url, secret=bank_secret,
                        public_url=bank_url,
                    )
                )  # fmt: skip
                await stack.enter_async_context(running_app(bank.create_app(), port=bank_port))
                in_use = [internal_token, courier_secret, bank_secret, master_key, blind_key]
                yield Stack(
                    gateway_url=gateway_url,
                    amqp_url=amqp_url,
                    dsns=dsns,
                    service_urls=urls,
                    sink=sink,
                    courier=courier,
                    bank=bank,
                    gateway=gateway,
                    internal_token=internal_token,
                    tokens=TokenIssuer(private_pem),
                    secrets_in_use=in_use,
                )
