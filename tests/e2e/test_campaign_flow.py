"""A campaign through the whole shop, at the gateway: a marketer starts a promotion and its
email campaign, the shoppers who consented get one email each, one of them uses the email's
one-click unsubscribe (RFC 8058: a POST with no cookie and no token), and the next campaign
reaches only the others."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import pytest

from tests.e2e.shopper import ApiClient, Profile, Shopper
from tests.e2e.stack import Stack, staff

pytestmark = pytest.mark.asyncio(loop_scope="session")
SHOP_TUNING = {"notifications": {"campaign_poll_s": 0.1, "campaign_batch_size": 2}}


class CampaignShopper(Shopper):
    profile = Profile(
        tag="campaign",
        last_name="Абенова",
        first_name="Жанар",
        operator="705",
        address={"city": "Павлодар", "street": "Толстого", "house": "9"},
    )


async def consent(shopper: Shopper) -> None:
    status, body = await shopper.call(
        "PUT", "/api/customers/me/consents", json={"marketing": {"email": True, "sms": False}}
    )
    assert status == 200, body


async def campaign(marketer: ApiClient, promotion_id: str) -> dict[str, Any]:
    status, created = await marketer.call(
        "POST",
        "/api/notifications/campaigns",
        json={"promotion_id": promotion_id, "channel": "email"},
    )
    assert status == 201, created
    async with asyncio.timeout(30):
        while True:
            status, found = await marketer.call(
                "GET", f"/api/notifications/campaigns/{created['id']}"
            )
            assert status == 200, found
            if found["status"] == "completed":
                return dict(found)
            await asyncio.sleep(0.1)


async def test_consented_shoppers_get_it_and_one_click_unsubscribes(shop: Stack) -> None:
    async with aiohttp.ClientSession() as session:
        shoppers = [CampaignShopper(session, shop.gateway_url) for _ in range(4)]
        for n, shopper in enumerate(shoppers):
            await shopper.sign_up(n)
        for shopper in shoppers[:3]:
            await consent(shopper)
        _, me = await shoppers[0].call("GET", "/api/customers/me")
        leaving = me["email"]
        emails = []
        for shopper in shoppers:
            _, me = await shopper.call("GET", "/api/customers/me")
            emails.append(me["email"])

        marketer = staff(session, shop, "marketer")
        product_id = await shoppers[0].in_stock_product()
        now = datetime.now(UTC)
        status, promotion = await marketer.call(
            "POST",
            "/api/catalog/promotions",
            json={
                "name": "Неделя заботы",
                "discount": {"percent": 10},
                "product_ids": [product_id],
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(days=3)).isoformat(),
            },
        )
        assert status == 201, promotion

        first = await campaign(marketer, promotion["id"])
        assert (first["audience"], first["sent"]) == (3, 3)
        sent = [m for m in shop.sink.messages if "Неделя заботы" in m.subject]
        assert sorted(m.rcpt_tos[0] for m in sent) == sorted(emails[:3])
        mail = next(m for m in sent if leaving in m.rcpt_tos)
        assert mail.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
        found = re.fullmatch(r"<(\S+)>", str(mail.message["List-Unsubscribe"]).strip())
        assert found and found.group(1).startswith(shop.gateway_url)
        assert found.group(1) in mail.body()

        # The mail client's one-click POST: no cookie, no bearer, the RFC 8058 form body.
        async with aiohttp.ClientSession() as anonymous:
            async with anonymous.post(
                found.group(1), data={"List-Unsubscribe": "One-Click"}
            ) as answer:
                assert answer.status < 300, await answer.text()
        async with asyncio.timeout(15):
            while True:
                _, consents = await shoppers[0].call("GET", "/api/customers/me/consents")
                if consents["marketing"]["email"] is False:
                    break
                await asyncio.sleep(0.1)

        before = len(shop.sink.messages)
        second = await campaign(marketer, promotion["id"])
        assert (second["audience"], second["sent"]) == (2, 2)
        later = [m for m in shop.sink.messages[before:] if "Неделя заботы" in m.subject]
        assert sorted(m.rcpt_tos[0] for m in later) == sorted(emails[1:3])
