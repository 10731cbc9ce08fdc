"""Marketing opt-outs from outside the account, through the gateway with the real customers
service: an email's unsubscribe link (GET changes nothing; a cookieless RFC 8058 POST
withdraws) and a STOP texted to the shop's number through the sandbox SMS provider. The
customer sees each withdrawal, with its source, in their consents; a hard bounce shows as a
suppressed contact in their export."""

from __future__ import annotations

import asyncio
import uuid
from typing import Any

import aiohttp
import jwt
import pytest

from services.notifications.unsubscribe_links import Unsubscribe, make_token, unsubscribe_url
from tests.e2e.shopper import ApiClient, Profile, Shopper
from tests.e2e.stack import Stack
from tests.e2e.test_erasure_flow import dump

pytestmark = pytest.mark.asyncio(loop_scope="session")


ADDRESS = {"city": "Астана", "street": "Кенесары", "house": "5"}


class OptOutShopper(Shopper):
    profile = Profile(
        "optouts",
        "Нурланова",
        "Асель",
        "701",
        {"city": "Астана", "street": "Кенесары", "house": "5"},
    )


async def signed_up(
    shop: Stack, session: aiohttp.ClientSession, phone: str
) -> tuple[ApiClient, uuid.UUID]:
    """A new customer who said yes to marketing by email and SMS; their id (the token's)."""
    client = OptOutShopper(session, shop.gateway_url)
    await client.sign_up(0, phone=phone, marketing=True)
    claims = jwt.decode(client.token, options={"verify_signature": False})
    return client, uuid.UUID(claims["sub"])


async def consents(client: ApiClient) -> dict[str, Any]:
    status, body = await client.call("GET", "/api/customers/me/consents")
    assert status == 200, body
    return dict(body)


async def until_withdrawn(client: ApiClient, channel: str) -> dict[str, Any]:
    async with asyncio.timeout(20):
        while (body := await consents(client))["marketing"][channel]:
            await asyncio.sleep(0.2)
    return body


async def test_the_unsubscribe_link_withdraws_only_when_posted(shop: Stack) -> None:
    assert shop.shop is not None
    async with aiohttp.ClientSession() as session:
        customer, customer_id = await signed_up(shop, session, "+77015550011")
        secrets = shop.shop.secrets
        token = make_token(
            secrets.read(secrets.unsubscribe_secret),
            Unsubscribe(customer_id, "email", uuid.uuid4()),
            days=30,
        )
        url = unsubscribe_url(shop.gateway_url, token)

        # A mail client, link scanner or the reader opening it: nothing changes.
        async with aiohttp.ClientSession() as stranger, stranger.get(url) as resp:
            assert resp.status == 200
        await asyncio.sleep(1.0)
        assert (await consents(customer))["marketing"] == {"email": True, "sms": True}

        # The one-click POST, with no cookie and no sign-in.
        async with (
            aiohttp.ClientSession() as mail_client,
            mail_client.post(
                url, data={"List-Unsubscribe": "One-Click"}, allow_redirects=False
            ) as resp,
        ):
            assert resp.status == 200
            assert "Set-Cookie" not in resp.headers
        body = await until_withdrawn(customer, "email")
        assert body["marketing"]["sms"] is True
        last = [h for h in body["marketing_history"] if h["channel"] == "email"][-1]
        assert (last["granted"], last["source"]) == (False, "one_click")


async def test_a_stop_texted_to_the_shop_withdraws_sms_marketing(shop: Stack) -> None:
    async with aiohttp.ClientSession() as session:
        phone = "+77015550022"
        customer, _ = await signed_up(shop, session, phone)
        assert await shop.sms.inbound(phone, "СТОП") == 200
        body = await until_withdrawn(customer, "sms")
        last = [h for h in body["marketing_history"] if h["channel"] == "sms"][-1]
        assert (last["granted"], last["source"]) == (False, "sms_stop")
        assert body["marketing"]["email"] is True


async def test_a_hard_bounce_of_the_welcome_mail_suppresses_the_address(shop: Stack) -> None:
    """The mail server refuses the address for good (550): the customer's export shows the
    email contact suppressed, and no address reached notifications' tables."""
    shop.sink.refuse_recipients = "550 5.1.1 No such user"
    try:
        async with aiohttp.ClientSession() as session:
            customer, _ = await signed_up(shop, session, "+77015550033")
            async with asyncio.timeout(20):
                while True:
                    status, export = await customer.call("GET", "/api/customers/me/export")
                    assert status == 200, export
                    if export["suppressions"]:
                        break
                    await asyncio.sleep(0.3)
    finally:
        shop.sink.refuse_recipients = None
    [suppressed] = export["suppressions"]
    assert (suppressed["channel"], suppressed["reason"]) == ("email", "hard_bounce")
    assert "@example.kz" not in dump(shop.dsns["notifications"])
