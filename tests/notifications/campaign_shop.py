"""What the campaign tests run on: the real customers service (its database, key store and
contact batches), the real catalog (its promotions), the real SMTP sink, the notifications
app (started, stopped and started again on one database, one replica or two), all on real
PostgreSQL and one RabbitMQ vhost.

The promotions are the real catalog's (seeded with the demo catalog), made by a marketer
through its API. Only the SMS provider, an outside party, is a stand-in
(``deploy/sandbox_sms.py``: signed HTTP, delivery reports back to the app).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import aiohttp
import asyncpg

from deploy.sandbox_sms import SandboxSms
from deploy.smtp_sink import ReceivedMail, SmtpSink
from services.catalog.app import create_app as catalog_app
from services.catalog.config import Settings as CatalogSettings
from services.catalog.seed import seed_demo_catalog
from services.customers.app import create_app as customers_app
from services.customers.keystore import migrate_keystore
from services.notifications.app import create_app as notifications_app
from services.notifications.config import Settings
from shared.auth import TokenIssuer
from shared.db import create_pool
from shared.service import running_app
from tests import infra
from tests.customers.conftest import Keys, make_settings, registration

INTERNAL_TOKEN = "internal-test-token"  # the customers fixtures' token too
UNSUBSCRIBE_SECRET = "campaign-test-unsubscribe-secret"
PASSWORD = "correct horse battery"
PROMOTION = "Зимняя аптечка"  # the name of every promotion made here


class SlowSink(SmtpSink):
    """The SMTP sink, taking ``delay`` seconds over each message (a campaign in progress
    long enough to pause it or stop the service under it), and holding every message while
    ``gate`` is clear."""

    delay: float = 0.0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.gate = asyncio.Event()
        self.gate.set()

    async def keep(self, mail: ReceivedMail) -> None:
        await self.gate.wait()
        if self.delay:
            await asyncio.sleep(self.delay)
        await super().keep(mail)


SMS_SECRET = "campaign-test-sms-secret"


@dataclass(frozen=True)
class Person:
    customer_id: str
    email: str
    phone: str
    first_name: str
    locale: str
    token: str


@dataclass
class CampaignShop:
    http: aiohttp.ClientSession
    customers_url: str
    customers_settings: Any
    notifications_dsn: str
    amqp_url: str
    sink: SlowSink
    catalog_url: str
    sms: SandboxSms
    sms_url: str
    tokens: TokenIssuer
    signing_keys: tuple[str, str]
    stack: contextlib.AsyncExitStack
    people: list[Person] = field(default_factory=list)
    url: str = ""  # the notifications app now running
    _running: list[contextlib.AsyncExitStack] = field(default_factory=list)

    def settings(self, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": self.notifications_dsn,
            "amqp_url": self.amqp_url,
            "jwt_public_key": self.signing_keys[1],
            "internal_token": INTERNAL_TOKEN,
            "customers_url": self.customers_url,
            "catalog_url": self.catalog_url,
            "sms_provider_url": self.sms_url,
            "sms_provider_secret": SMS_SECRET,
            "smtp_port": self.sink.smtp_port,
            "retry_delays_ms": (50, 100),
            "unsubscribe_secret": UNSUBSCRIBE_SECRET,
            "public_base_url": "https://shop.example.kz",
            "campaign_poll_s": 0.05,
            "campaign_status_poll_s": 0.05,
            "campaign_batch_size": 3,
            "campaign_concurrency": 2,
            "campaign_lease_s": 5.0,
            **overrides,
        }
        return Settings(**values)

    async def start(self, **overrides: Any) -> str:
        """Start a notifications app on the shop's database (another replica when one runs
        already); the calls go to the newest."""
        running = contextlib.AsyncExitStack()
        app = notifications_app(self.settings(**overrides))
        self.url = await running.enter_async_context(running_app(app))
        self.sms.callback_base_url = self.url  # its delivery reports go to the newest
        self._running.append(running)
        return self.url

    async def stop(self) -> None:
        """Stop the oldest notifications app as SIGTERM does (graceful: its cleanup runs)."""
        await self._running.pop(0).aclose()

    async def sign_up(
        self, n: int, *, email: bool, sms: bool = False, locale: str = "ru", phone: str = ""
    ) -> Person:
        address = f"campaign.{n}.{uuid4().hex[:6]}@example.kz"
        phone = phone or f"+7701{n:07d}"
        first_name = f"Айгерим{chr(0x430 + n % 30)}"
        body = registration(
            email=address,
            phone=phone,
            first_name=first_name,
            locale=locale,
            marketing={"email": email, "sms": sms},
        )
        status, answer = await self.customers("POST", "/api/customers/register", json=body)
        assert status == 201, answer
        status, tokens = await self.customers(
            "POST", "/api/customers/login", json={"login": address, "password": PASSWORD}
        )
        assert status == 200, tokens
        person = Person(str(answer["id"]), address, phone, first_name, locale,
                        tokens["access_token"])  # fmt: skip
        self.people.append(person)
        return person

    async def customers(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        return await _call(self.http, method, self.customers_url + path, token, **kwargs)

    async def catalog(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """The catalog's API as a marketer."""
        return await _call(self.http, method, self.catalog_url + path, self.marketer(), **kwargs)

    async def call(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        return await _call(self.http, method, self.url + path, token, **kwargs)

    def marketer(self, role: str = "marketer") -> str:
        return self.tokens.issue(uuid4(), "staff", frozenset({role}))

    async def promotion(
        self, *, starts_in: timedelta = timedelta(0), end: bool = False, amount: int | None = None
    ) -> str:
        """A promotion of 15 % (or ``amount`` tiyn) on two demo products, made by a marketer
        in the catalog: live now, or starting in ``starts_in``; ``end``: ended at once."""
        status, page = await _call(
            self.http, "GET", f"{self.catalog_url}/api/catalog/products?limit=2", None
        )
        assert status == 200, page
        now = datetime.now(UTC)
        discount = {"percent": 15} if amount is None else {"amount": amount, "currency": "KZT"}
        body = {
            "name": PROMOTION,
            "discount": discount,
            "product_ids": [item["id"] for item in page["items"]],
            "starts_at": (now + starts_in).isoformat(),
            "ends_at": (now + starts_in + timedelta(days=7)).isoformat(),
        }
        token = self.marketer()
        url = f"{self.catalog_url}/api/catalog/promotions"
        status, made = await _call(self.http, "POST", url, token, json=body)
        assert status == 201, made
        if end:
            status, ended = await _call(
                self.http, "PATCH", f"{url}/{made['id']}", token, json={"status": "ended"}
            )
            assert status == 200, ended
        return str(made["id"])

    async def create(self, channel: str = "email", **extra: Any) -> dict[str, Any]:
        promotion_id = await self.promotion()
        status, body = await self.call(
            "POST",
            "/api/notifications/campaigns",
            token=self.marketer(),
            json={"promotion_id": str(promotion_id), "channel": channel, **extra},
        )
        assert status == 201, body
        return dict(body)

    async def campaign(self, campaign_id: str) -> dict[str, Any]:
        status, body = await self.call(
            "GET", f"/api/notifications/campaigns/{campaign_id}", token=self.marketer()
        )
        assert status == 200, body
        return dict(body)

    async def move(self, campaign_id: str, action: str) -> dict[str, Any]:
        status, body = await self.call(
            "POST", f"/api/notifications/campaigns/{campaign_id}/{action}", token=self.marketer()
        )
        assert status == 200, body
        return dict(body)

    async def wait_status(
        self, campaign_id: str, *statuses: str, timeout: float = 30
    ) -> dict[str, Any]:
        async with asyncio.timeout(timeout):
            while (found := await self.campaign(campaign_id))["status"] not in statuses:
                await asyncio.sleep(0.05)
        return found

    async def wait_claimed(self, campaign_id: str, count: int = 1, timeout: float = 15) -> None:
        """Until ``count`` recipients of the campaign are claimed (their messages going)."""
        async with asyncio.timeout(timeout):
            while (
                await self.db_value(
                    "SELECT count(*) FROM deliveries WHERE campaign_id = $1 AND status = 'sending'",
                    UUID(campaign_id),
                )
                < count
            ):
                await asyncio.sleep(0.02)

    async def wait_idle(self, campaign_id: str, timeout: float = 15) -> None:
        """Until no runner holds the campaign (a pause or a stop has taken effect)."""
        async with asyncio.timeout(timeout):
            while await self.db_value(
                "SELECT lease_owner IS NOT NULL FROM campaigns WHERE id = $1", UUID(campaign_id)
            ):
                await asyncio.sleep(0.05)

    async def db_value(self, query: str, *args: Any) -> Any:
        conn = await asyncpg.connect(self.notifications_dsn)
        try:
            return await conn.fetchval(query, *args)
        finally:
            await conn.close()

    async def db_rows(self, query: str, *args: Any) -> list[asyncpg.Record]:
        conn = await asyncpg.connect(self.notifications_dsn)
        try:
            return list(await conn.fetch(query, *args))
        finally:
            await conn.close()

    def received(self, person: Person) -> list[ReceivedMail]:
        """The campaign mails the person got (not the transactional ones, such as the
        confirmation of a block)."""
        return [
            mail
            for mail in self.sink.messages
            if person.email in mail.rcpt_tos and PROMOTION in mail.subject
        ]


async def _call(
    http: aiohttp.ClientSession, method: str, url: str, token: str | None, **kwargs: Any
) -> tuple[int, Any]:
    headers = dict(kwargs.pop("headers", {}))
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with http.request(method, url, headers=headers, **kwargs) as resp:
        text = await resp.text()
        try:
            return resp.status, await resp.json(content_type=None) if text else None
        except ValueError:
            return resp.status, text


@contextlib.asynccontextmanager
async def campaign_shop(
    servers: infra.Servers,
    make_database: Callable[[str], Awaitable[str]],
    amqp_url: str,
    signing_keys: tuple[str, str],
) -> AsyncIterator[CampaignShop]:
    catalog_dsn = await make_database("catalog")
    pool = await create_pool(catalog_dsn, min_size=1, max_size=1)
    async with pool.acquire() as conn:
        await seed_demo_catalog(conn)
    await pool.close()
    catalog = CatalogSettings(
        database_url=catalog_dsn,
        amqp_url=amqp_url,
        jwt_public_key=signing_keys[1],
        internal_token=INTERNAL_TOKEN,
        retry_delays_ms=(50, 100),
    )
    customers_dsn = await make_database("customers")
    notifications_dsn = await make_database("notifications")
    keystore = f"t_{infra.run_token()}_keystore"
    keystore_dsn = await infra.create_database(servers.pg_admin_dsn, keystore)
    await migrate_keystore(keystore_dsn)
    keys = Keys(master=os.urandom(32), blind=os.urandom(32))
    customer_settings = make_settings(
        customers_dsn, amqp_url, signing_keys, keys, keystore_dsn, retry_delays_ms=(50, 100)
    )
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(infra.drop_database, servers.pg_admin_dsn, keystore)
        sink = await stack.enter_async_context(SlowSink("127.0.0.1", smtp_port=0))
        catalog_url = await stack.enter_async_context(running_app(catalog_app(catalog)))
        sms = await stack.enter_async_context(SandboxSms(secret=SMS_SECRET, report_delay_s=0.05))
        sms_url = await sms.listen()
        customers_url = await stack.enter_async_context(
            running_app(customers_app(customer_settings))
        )
        http = await stack.enter_async_context(aiohttp.ClientSession())
        shop = CampaignShop(
            http=http,
            customers_url=customers_url,
            customers_settings=customer_settings,
            notifications_dsn=notifications_dsn,
            amqp_url=amqp_url,
            sink=sink,
            catalog_url=catalog_url,
            sms=sms,
            sms_url=sms_url,
            tokens=TokenIssuer(signing_keys[0]),
            signing_keys=signing_keys,
            stack=stack,
        )
        try:
            yield shop
        finally:
            while shop._running:
                await shop.stop()
