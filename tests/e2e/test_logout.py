"""Access ends at once everywhere (issue 8): after a logout or a password change the access
tokens they end are refused by customers at once, and by orders and catalog as soon as the
revocation event reached them (polled with a bound, then asserted); notifications, which has
no route that takes a token, keeps the revocation too; a token of another session lives on
after a single-session logout."""

from __future__ import annotations

import asyncio
import time
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
import jwt

from tests.e2e.shopper import Profile, Shopper
from tests.e2e.stack import Stack

PROFILE = Profile(
    tag="logout",
    last_name="Сейткали",
    first_name="Данияр",
    operator="707",
    address={"city": "Алматы", "street": "Абая", "house": "10"},
)
BOUND_S = 15.0


class LogoutShopper(Shopper):
    profile = PROFILE


async def status_of(session: aiohttp.ClientSession, url: str, token: str) -> tuple[int, Any]:
    async with session.get(url, headers={"Authorization": f"Bearer {token}"}) as response:
        return response.status, response.headers.get("Content-Type", "")


def probes(shop: Stack, token: str) -> dict[str, str]:
    """One route per service that needs a token (each answers 401 once it is revoked)."""
    return {
        "customers": f"{shop.gateway_url}/api/customers/me",
        "orders": f"{shop.gateway_url}/api/orders",
        "catalog": f"{shop.gateway_url}/api/stats/report",  # a staff route: 403 until then
    }


async def kept_by_notifications(shop: Stack, token: str) -> bool:
    customer_id = UUID(jwt.decode(token, options={"verify_signature": False})["sub"])
    conn = await asyncpg.connect(shop.dsns["notifications"])
    try:
        query = "SELECT count(*) FROM access_revocations WHERE customer_id = $1"
        deadline = time.monotonic() + BOUND_S
        while not await conn.fetchval(query, customer_id) and time.monotonic() < deadline:
            await asyncio.sleep(0.05)
        return bool(await conn.fetchval(query, customer_id))
    finally:
        await conn.close()


async def refused_everywhere(session: aiohttp.ClientSession, shop: Stack, token: str) -> None:
    deadline = time.monotonic() + BOUND_S
    for service, url in probes(shop, token).items():
        while True:
            status, content_type = await status_of(session, url, token)
            if status == 401 or time.monotonic() > deadline:
                break
            await asyncio.sleep(0.05)
        assert status == 401, service
        assert content_type.startswith("application/problem+json"), service
    assert await kept_by_notifications(shop, token)


async def accepted_everywhere(session: aiohttp.ClientSession, shop: Stack, token: str) -> None:
    for service, url in probes(shop, token).items():
        status, _ = await status_of(session, url, token)
        assert status in (200, 403), service  # 403: a customer on a staff/internal route


async def test_logout_ends_that_session_everywhere_and_no_other(shop: Stack) -> None:
    async with aiohttp.ClientSession() as one, aiohttp.ClientSession() as two:
        phone = LogoutShopper(one, shop.gateway_url)
        await phone.sign_up(1)
        laptop = LogoutShopper(two, shop.gateway_url)
        _, profile = await phone.call("GET", "/api/customers/me")
        status, tokens = await laptop.call(
            "POST",
            "/api/customers/login",
            json={"login": profile["email"], "password": PROFILE.password},
        )
        assert status == 200
        laptop.token = tokens["access_token"]
        await accepted_everywhere(one, shop, phone.token)
        status, _ = await phone.call("POST", "/api/customers/logout")
        assert status == 204
        status, _ = await phone.call("GET", "/api/customers/me")  # at once, no waiting
        assert status == 401
        await refused_everywhere(one, shop, phone.token)
        await accepted_everywhere(two, shop, laptop.token)


async def test_password_change_ends_every_session_everywhere(shop: Stack) -> None:
    async with aiohttp.ClientSession() as one, aiohttp.ClientSession() as two:
        phone = LogoutShopper(one, shop.gateway_url)
        await phone.sign_up(2)
        _, profile = await phone.call("GET", "/api/customers/me")
        laptop = LogoutShopper(two, shop.gateway_url)
        status, tokens = await laptop.call(
            "POST",
            "/api/customers/login",
            json={"login": profile["email"], "password": PROFILE.password},
        )
        assert status == 200
        laptop.token = tokens["access_token"]
        status, _ = await phone.call(
            "POST",
            "/api/customers/me/password",
            json={"current_password": PROFILE.password, "new_password": "a new long secret"},
        )
        assert status == 204
        status, _ = await laptop.call("GET", "/api/customers/me")
        assert status == 401
        await refused_everywhere(two, shop, laptop.token)
        await refused_everywhere(one, shop, phone.token)
        # Signing in again with the new password works everywhere.
        laptop.token = ""
        status, tokens = await laptop.call(
            "POST",
            "/api/customers/login",
            json={"login": profile["email"], "password": "a new long secret"},
        )
        assert status == 200
        await accepted_everywhere(two, shop, tokens["access_token"])
