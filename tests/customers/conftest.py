"""Fixtures of the customers tests: keys made here, a running app on a real database/broker."""

from __future__ import annotations

import base64
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any
from uuid import uuid4

import aiohttp
import asyncpg
import pytest
from aiohttp import web

from services.customers.app import create_app
from services.customers.config import Settings
from services.customers.keystore import migrate_keystore
from shared.auth import TokenIssuer
from shared.service import running_app
from tests import infra

INTERNAL_TOKEN = "internal-test-token"
POLICY_VERSION = "2026-11-01"


@dataclass(frozen=True)
class Keys:
    master: bytes
    blind: bytes


@pytest.fixture
def keys() -> Keys:
    return Keys(master=os.urandom(32), blind=os.urandom(32))


def make_settings(
    dsn: str,
    amqp_url: str,
    signing_keys: tuple[str, str],
    keys: Keys,
    keystore_dsn: str,
    **overrides: Any,
) -> Settings:
    values: dict[str, Any] = {
        "database_url": dsn,
        "keystore_database_url": keystore_dsn,
        "amqp_url": amqp_url,
        "jwt_private_key": signing_keys[0],
        "jwt_public_key": signing_keys[1],
        "master_key": base64.b64encode(keys.master).decode(),
        "blind_index_key": base64.b64encode(keys.blind).decode(),
        "pd_store_region": "KZ",
        "internal_token": INTERNAL_TOKEN,
        "retry_delays_ms": (200,),
        "argon2_time_cost": 1,
        "argon2_memory_kib": 8 * 1024,
        # No orders or notifications service confirms here: DELETE /me answers at once.
        "erasure_answer_wait_s": 0,
        **overrides,
    }
    return Settings(**values)


@dataclass
class Shop:
    url: str
    http: aiohttp.ClientSession
    dsn: str
    settings: Settings
    app: web.Application
    keystore_dsn: str

    async def call(
        self, method: str, path: str, *, token: str | None = None, **kwargs: Any
    ) -> tuple[int, Any]:
        headers = dict(kwargs.pop("headers", {}))
        if token:
            headers["Authorization"] = f"Bearer {token}"
        async with self.http.request(method, self.url + path, headers=headers, **kwargs) as resp:
            body = await resp.json(content_type=None) if resp.content_length != 0 else None
            return resp.status, body

    async def register(self, **overrides: Any) -> str:
        status, body = await self.call(
            "POST", "/api/customers/register", json=registration(**overrides)
        )
        assert status == 201, body
        return str(body["id"])

    async def login(self, login: str, password: str = "correct horse battery") -> str:
        status, body = await self.call(
            "POST", "/api/customers/login", json={"login": login, "password": password}
        )
        assert status == 200, body
        return str(body["access_token"])

    async def db(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.dsn)

    async def keystore_db(self) -> asyncpg.Connection:
        return await asyncpg.connect(self.keystore_dsn)

    def officer_token(self, *roles: str) -> str:
        """A staff token (role privacy_officer unless ``roles`` say otherwise)."""
        issuer = TokenIssuer(self.settings.private_key_pem())
        return issuer.issue(uuid4(), "staff", frozenset(roles or ("privacy_officer",)))

    async def block(self, customer_id: str, reason: str = "subject_request") -> dict[str, Any]:
        """Block the customer's data as a privacy officer does (the real route)."""
        status, body = await self.call(
            "POST",
            f"/api/customers/privacy/customers/{customer_id}/block",
            token=self.officer_token(),
            json={"reason": reason},
        )
        assert status == 202, body
        return dict(body)


def registration(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "last_name": "Жумабекова",
        "first_name": "Айгерим",
        "patronymic": "Нурлановна",
        "phone": "+7 701 234 56 78",
        "email": "Aigerim.Test@Example.kz",
        "password": "correct horse battery",
        "delivery_address": {
            "city": "Шымкент",
            "street": "проспект Тауке хана",
            "house": "17",
            "apartment": "42",
            "postal_code": "160012",
            "comment": "домофон 42 звонить",
        },
        "accept_policy_version": POLICY_VERSION,
        "marketing": {"email": False, "sms": False},
        "locale": "kk",
    }
    body.update(overrides)
    return body


MakeShop = Callable[..., Awaitable[Shop]]


@pytest.fixture(scope="session")
def customers_vhost(servers: infra.Servers) -> Iterator[str]:
    """One vhost for the customers tests of this run (kept apart from the other services)."""
    vhost = f"test-customers-{infra.run_token()}"
    infra.create_vhost(servers.rabbitmqctl, vhost)
    yield infra.amqp_with_vhost(servers.amqp_url, vhost)
    infra.delete_vhost(servers.rabbitmqctl, vhost)


@pytest.fixture
def vhost(customers_vhost: str) -> str:
    """The broker of one test; a test that needs an empty broker overrides it with fresh_vhost."""
    return customers_vhost


MakeKeystore = Callable[[], Awaitable[str]]


@pytest.fixture
async def make_keystore(servers: infra.Servers) -> AsyncIterator[MakeKeystore]:
    """A fresh migrated key-store database (``await make_keystore()``), dropped after."""
    made: list[str] = []

    async def make() -> str:
        name = f"t_{infra.run_token()}_keystore"
        dsn = await infra.create_database(servers.pg_admin_dsn, name)
        made.append(name)
        await migrate_keystore(dsn)
        return dsn

    yield make
    for name in made:
        await infra.drop_database(servers.pg_admin_dsn, name)


@pytest.fixture
async def keystore_dsn(make_keystore: MakeKeystore) -> str:
    """The key store of one test (the shops of ``shop_factory`` share it)."""
    return await make_keystore()


@pytest.fixture
async def shop_factory(
    make_database: Callable[[str], Awaitable[str]],
    keystore_dsn: str,
    vhost: str,
    signing_keys: tuple[str, str],
    keys: Keys,
) -> AsyncIterator[MakeShop]:
    """Start customers apps (one database and key store, one vhost per test); all stopped at
    the end."""
    stack: list[Any] = []
    dsn = await make_database("customers")

    async def start(**overrides: Any) -> Shop:
        settings = make_settings(dsn, vhost, signing_keys, keys, keystore_dsn, **overrides)
        app = create_app(settings)
        running = running_app(app)
        url = await running.__aenter__()
        http = aiohttp.ClientSession()
        stack.append((running, http))
        return Shop(
            url=url, http=http, dsn=dsn, settings=settings, app=app, keystore_dsn=keystore_dsn
        )

    yield start
    for running, http in reversed(stack):
        await http.close()
        await running.__aexit__(None, None, None)


@pytest.fixture
async def shop(shop_factory: MakeShop) -> Shop:
    return await shop_factory()
