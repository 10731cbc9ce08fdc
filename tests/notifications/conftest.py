"""Fixtures of the notifications tests: a real SMTP sink, a stand-in for the customers
release endpoint (customers is written in parallel; the end-to-end test uses the real one),
and the notifications app on real PostgreSQL and RabbitMQ."""

from __future__ import annotations

import asyncio
import contextlib
import io
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID, uuid4

import aio_pika
import asyncpg
import pytest
from aiohttp import web

from deploy.smtp_sink import ReceivedMail, SmtpSink
from services.notifications.app import create_app
from services.notifications.config import Settings
from shared.contracts import Contract
from shared.service import running_app
from tests import infra
from tests.notifications.campaign_shop import CampaignShop, campaign_shop
from tests.shared.messaging_helpers import publish as publish  # the notifications tests' one

INTERNAL_TOKEN = "internal-test-token"
QUEUE = "notifications.events"


@dataclass
class Person:
    email: str
    first_name: str
    locale: str = "ru"


@dataclass
class CustomersStub:
    """``POST /internal/releases`` as the customers service answers it."""

    people: dict[UUID, Person | int] = field(default_factory=dict)
    calls: list[dict[str, Any]] = field(default_factory=list)
    # ``POST /internal/sms-stops`` bodies, and the status it answers (customers' contract).
    sms_stops: list[dict[str, Any]] = field(default_factory=list)
    sms_stop_status: int = 200
    sms_stops_refused: int = 0
    batch_calls: list[dict[str, Any]] = field(default_factory=list)
    # After this many pages, contact batches answer 503 (customers away); None: never.
    pages_before_failing: int | None = None

    def add(self, person: Person | int) -> UUID:
        customer_id = uuid4()
        self.people[customer_id] = person
        return customer_id

    def app(self) -> web.Application:
        app = web.Application()
        app.router.add_post("/internal/releases", self.release)
        app.router.add_post("/internal/sms-stops", self.sms_stop)
        app.router.add_post("/internal/contact-batches", self.contact_batch)
        return app

    async def sms_stop(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Internal-Token") != INTERNAL_TOKEN:
            return web.json_response({"title": "Forbidden"}, status=403)
        if self.sms_stop_status != 200:
            self.sms_stops_refused += 1
            return web.json_response({"title": "Unavailable"}, status=self.sms_stop_status)
        self.sms_stops.append(await request.json())
        return web.json_response({"withdrawn": True})

    async def contact_batch(self, request: web.Request) -> web.Response:
        """Every active customer's email (a refusing entry stands for a blocked or erased
        one), a page at a time in customer id order (PostgreSQL's uuid order)."""
        if request.headers.get("X-Internal-Token") != INTERNAL_TOKEN:
            return web.json_response({"title": "Forbidden"}, status=403)
        body = await request.json()
        self.batch_calls.append(body)
        if self.pages_before_failing is not None:
            if self.pages_before_failing <= 0:
                return web.json_response({"title": "Unavailable"}, status=503)
            self.pages_before_failing -= 1
        after = UUID(body["after"]) if body["after"] else None
        ids = sorted(i for i in self.people if after is None or i > after)
        page = ids[: body["limit"]]
        items = [
            {
                "customer_id": str(i),
                "release_id": str(uuid4()),
                "locale": entry.locale,
                "first_name": entry.first_name,
                "contact": entry.email,
            }
            for i in page
            if isinstance(entry := self.people[i], Person)
        ]
        next_after = str(page[-1]) if len(ids) > len(page) else None
        return web.json_response({"items": items, "next_after": next_after})

    async def release(self, request: web.Request) -> web.Response:
        if request.headers.get("X-Internal-Token") != INTERNAL_TOKEN:
            return web.json_response({"title": "Forbidden"}, status=403)
        body = await request.json()
        self.calls.append(body)
        entry = self.people.get(UUID(body["customer_id"]))
        if entry is None:
            return web.json_response({"title": "Not found"}, status=404)
        if isinstance(entry, int):
            return web.json_response({"title": "Refused"}, status=entry)
        answer = {
            "release_id": str(uuid4()),
            "locale": entry.locale,
            "fields": {"first_name": entry.first_name, "email": entry.email},
        }
        return web.json_response(answer, status=201)


@dataclass
class Running:
    url: str
    dsn: str
    settings: Settings


StartNotifications = Callable[..., Awaitable[Running]]


@pytest.fixture
async def sink() -> AsyncIterator[SmtpSink]:
    async with SmtpSink("127.0.0.1", smtp_port=0) as running:
        yield running


@pytest.fixture
async def customers() -> AsyncIterator[tuple[CustomersStub, str]]:
    stub = CustomersStub()
    async with running_app(stub.app()) as url:
        yield stub, url


SettingsFor = Callable[..., Settings]


@pytest.fixture
def settings_for(
    fresh_vhost: str,
    signing_keys: tuple[str, str],
    customers: tuple[CustomersStub, str],
    sink: SmtpSink,
) -> SettingsFor:
    """The settings of a notifications app on the database ``dsn``, the run's vhost, the
    customers stand-in and the sink."""

    def settings(dsn: str, **overrides: Any) -> Settings:
        values: dict[str, Any] = {
            "database_url": dsn,
            "amqp_url": fresh_vhost,
            "jwt_public_key": signing_keys[1],
            "internal_token": INTERNAL_TOKEN,
            "customers_url": customers[1],
            "smtp_host": "127.0.0.1",
            "smtp_port": sink.smtp_port,
            "retry_delays_ms": (50, 100),
            **overrides,
        }
        return Settings(**values)

    return settings


@pytest.fixture
async def start_notifications(
    make_database: Callable[[str], Awaitable[str]], settings_for: SettingsFor
) -> AsyncIterator[StartNotifications]:
    async with contextlib.AsyncExitStack() as stack:

        async def start(**overrides: Any) -> Running:
            dsn = await make_database("notifications")
            settings = settings_for(dsn, **overrides)
            url = await stack.enter_async_context(running_app(create_app(settings)))
            return Running(url, dsn, settings)

        yield start


@dataclass
class Mailing:
    """A notifications app (its own database, the run's vhost), the customers stand-in it
    asks for releases and the SMTP sink it sends to."""

    app: Running
    stub: CustomersStub
    sink: SmtpSink

    @property
    def dsn(self) -> str:
        return self.app.dsn

    @property
    def url(self) -> str:
        return self.app.url

    @property
    def amqp_url(self) -> str:
        return self.app.settings.amqp_url

    async def publish(self, event: Contract, message_id: UUID | None = None) -> UUID:
        """Publish ``event`` on the app's broker, as a service's relay would; its message id."""
        return await publish(self.amqp_url, event, message_id=message_id)


StartMailing = Callable[..., Awaitable[Mailing]]


@pytest.fixture
def start_mailing(
    start_notifications: StartNotifications,
    customers: tuple[CustomersStub, str],
    sink: SmtpSink,
) -> StartMailing:
    """Start a notifications app with these settings overridden, beside the stand-in and sink."""

    async def start(**overrides: Any) -> Mailing:
        return Mailing(await start_notifications(**overrides), customers[0], sink)

    return start


@pytest.fixture
async def mailing(start_mailing: StartMailing) -> Mailing:
    """A notifications app with the test settings, the customers stand-in and the sink."""
    return await start_mailing()


@pytest.fixture
def campaign_amqp_url(fresh_vhost: str) -> str:
    """The broker of the campaign shop: the run's vhost unless a test module says otherwise."""
    return fresh_vhost


@pytest.fixture
async def shop(
    servers: infra.Servers,
    make_database: Callable[[str], Awaitable[str]],
    campaign_amqp_url: str,
    signing_keys: tuple[str, str],
) -> AsyncIterator[CampaignShop]:
    """The campaign shop: catalog, customers and notifications on real parts."""
    async with campaign_shop(servers, make_database, campaign_amqp_url, signing_keys) as found:
        yield found


async def queue_depth(amqp_url: str, queue: str) -> int:
    connection = await aio_pika.connect(amqp_url)
    async with connection:
        channel = await connection.channel()
        declared = await channel.declare_queue(queue, passive=True)
        count = declared.declaration_result.message_count
        return int(count or 0)


async def deliveries(dsn: str) -> list[dict[str, Any]]:
    conn = await asyncpg.connect(dsn)
    try:
        rows = await conn.fetch("SELECT * FROM deliveries ORDER BY at")
    finally:
        await conn.close()
    return [dict(row) for row in rows]


async def eventually(
    check: Callable[[], Awaitable[Any]], timeout: float = 10.0, interval: float = 0.05
) -> Any:
    """Poll ``check`` until it returns something truthy; return that."""
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(interval)
    return result


async def all_table_text(dsn: str) -> str:
    """Every row of every table of the database, as text."""
    conn = await asyncpg.connect(dsn)
    try:
        tables = await conn.fetch(
            "SELECT schemaname, tablename FROM pg_tables"
            " WHERE schemaname NOT IN ('pg_catalog', 'information_schema')"
        )
        parts: list[str] = []
        for table in tables:
            query = f'SELECT t::text FROM "{table["schemaname"]}"."{table["tablename"]}" t'
            parts.extend(row[0] for row in await conn.fetch(query))
    finally:
        await conn.close()
    return "\n".join(parts)


def to(address: str) -> Callable[[ReceivedMail], bool]:
    """Matches the mail addressed to ``address``."""
    return lambda mail: address in mail.rcpt_tos


async def sent_rows(dsn: str, status: str = "sent") -> list[dict[str, Any]]:
    return [row for row in await deliveries(dsn) if row["status"] == status]


async def assert_nothing_personal_kept(
    dsn: str, customer_id: UUID, person: Person, logs: io.StringIO
) -> None:
    """The tables name the customer by id only; neither they nor the logs hold the address
    (nor its local part) or the name."""
    stored = await all_table_text(dsn)
    assert str(customer_id) in stored  # the scan does read the tables
    for secret in (person.email, person.email.split("@")[0], person.first_name):
        assert secret not in stored
        assert secret not in logs.getvalue()
