"""A new privacy-policy version through the whole shop (policy 5.8): the privacy officer
publishes it, customers announces it, notifications walks customers' real contact batches and
every active customer gets the notice once, in the real SMTP sink; a blocked one does not,
and each release is in that customer's register."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import aiohttp
import pytest

from tests.e2e.shopper import Profile
from tests.e2e.shopper import Shopper as BaseShopper
from tests.e2e.stack import Stack, staff

pytestmark = pytest.mark.asyncio(loop_scope="session")

ADDRESS = {"city": "Алматы", "street": "Абая", "house": "10", "apartment": "3"}
SUBJECT = "Новая редакция политики конфиденциальности"
VERSION = "2027-01-01-e2e"


class Shopper(BaseShopper):
    profile = Profile("policy", "Политова", "Сая", "707", ADDRESS)


async def test_every_active_customer_is_told_of_a_new_policy_once(shop: Stack) -> None:
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
        shoppers = [Shopper(session, shop.gateway_url) for _ in range(3)]
        for n, shopper in enumerate(shoppers, start=1):
            await shopper.sign_up(n)
        active, blocked = shoppers[:2], shoppers[2]
        status, _ = await blocked.call("POST", "/api/customers/me/block")
        assert status == 202

        officer = staff(session, shop, "privacy_officer")
        body = {
            "version": VERSION,
            "effective_date": datetime.now(UTC).date().isoformat(),
            "text_ru": "Новая редакция.",
            "text_kk": "Жаңа редакция.",
        }
        status, answer = await officer.call("POST", "/api/customers/policy/versions", json=body)
        assert status == 201, answer

        for shopper in active:
            mail = await shop.sink.wait_for(
                lambda m, s=shopper: s.email in m.rcpt_tos and m.subject == SUBJECT, timeout=30
            )
            assert f"({VERSION})" in mail.body() and "/account/policy" in mail.body()
        await asyncio.sleep(1.0)  # a second notice would show here

        notices = [m for m in shop.sink.messages if m.subject == SUBJECT]
        assert sorted(m.rcpt_tos[0] for m in notices) == sorted(s.email for s in active)
        for shopper in active:
            _, register = await shopper.call("GET", "/api/customers/me/disclosures")
            releases = [
                i
                for i in register["items"]
                if i["recipient"] == "notifications" and i["purpose"] == "service_communication"
            ]
            assert len(releases) == 2  # the welcome mail's and the notice's
