"""The privacy officer's desk through the gateway: a customer's objection answered with its
reason, a breach touching the customer whose notice carries their name and mobile number,
and a legal disclosure, each in the customer's own view (register, requests)."""

from __future__ import annotations

import asyncio
import io
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.e2e.shopper import Profile, Shopper, resolve_at_desk
from tests.e2e.stack import Stack, staff

pytestmark = pytest.mark.asyncio(loop_scope="session")

DESK = "/api/customers/privacy"
OBJECTION = "Прошу пересмотреть отказ в заказе, Темирова"
ANSWER = "Отказ пересмотрен: лимит заказов за час был превышен, решение оставлено в силе."
WHAT = "утерян планшет курьера со списком доставок"


ADDRESS = {"city": "Караганда", "street": "Бухар-Жырау", "house": "9"}


class Objector(Shopper):
    profile = Profile("desk", "Темирова", "Жанар", "771", ADDRESS)


async def test_the_desk_answers_reports_and_discloses_through_the_gateway(
    shop: Stack, shop_logs: io.StringIO
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = Objector(session, shop.gateway_url)
        await customer.sign_up(1)
        _, me = await customer.call("GET", "/api/customers/me")
        status, filed = await customer.call(
            "POST", "/api/customers/me/requests", json={"kind": "objection", "detail": OBJECTION}
        )
        assert status == 201 and filed["status"] == "received"

        officer = staff(session, shop, "privacy_officer")
        status, queue = await officer.call("GET", f"{DESK}/requests?kind=objection&limit=200")
        assert status == 200
        [item] = [i for i in queue["items"] if i["id"] == filed["id"]]
        assert item["due"] == filed["due"] and item["overdue"] is False
        body = {"outcome": "refused", "answer": ANSWER, "reason": "decision_upheld"}
        await resolve_at_desk(officer, filed["id"], body)
        seen = await customer.my_request(filed["id"])
        assert seen["status"] == "refused" and seen["resolution"] == ANSWER

        detected = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
        status, breach = await officer.call(
            "POST",
            f"{DESK}/breaches",
            json={"description": WHAT, "detected_at": detected, "customer_ids": [me["id"]]},
        )
        assert status == 201 and breach["subjects"] == 1
        status, notice = await officer.call("GET", f"{DESK}/breaches/{breach['id']}/notice")
        assert status == 200
        assert notice["subjects"] == [{"full_name": "Темирова Жанар", "phone": me["phone"]}]
        status, disclosed = await officer.call(
            "POST",
            f"{DESK}/legal-disclosures",
            json={
                "customer_id": me["id"],
                "authority": "Суд района Казыбек би г. Караганды",
                "basis": "ст. 9: определение суда № 2-1234/2026",
                "fields": ["delivery_address"],
            },
        )
        assert status == 201 and disclosed["values"]["delivery_address"]["city"] == "Караганда"

        # A customer's token is no officer's.
        status, _ = await customer.call("GET", f"{DESK}/breaches")
        assert status == 403
        _, register = await customer.call("GET", "/api/customers/me/disclosures")
        legal = [d for d in register["items"] if d["purpose"] == "legal_request"]
        assert sorted(d["fields"][0] for d in legal) == ["delivery_address", "full_name"]
    logs = shop_logs.getvalue()
    for needle in ("Темирова", "Жанар", me["phone"], "планшет", "пересмотреть", "Бухар"):
        assert needle not in logs


class Withdrawing(Shopper):
    profile = Profile("withdraw", "Отзывова", "Алия", "771", ADDRESS)


async def test_a_withdrawal_completed_at_the_desk_erases_the_account_in_every_service(
    shop: Stack, shop_logs: io.StringIO
) -> None:
    async with aiohttp.ClientSession() as session:
        customer = Withdrawing(session, shop.gateway_url)
        await customer.sign_up(2)
        status, filed = await customer.call(
            "POST", "/api/customers/me/requests", json={"kind": "withdraw_consent"}
        )
        assert status == 201 and filed["due"]
        officer = staff(session, shop, "privacy_officer")
        answered = await resolve_at_desk(
            officer,
            filed["id"],
            {"outcome": "completed", "answer": "Согласие отозвано, данные уничтожаются."},
        )
        erase_id = answered["erasure"]["request_id"]
        assert answered["erasure"]["status"] in ("in_progress", "completed")
        status, _ = await customer.call("GET", "/api/customers/me")
        assert status == 401
        # Orders and notifications confirm they removed the id: the erasure completes.
        async with asyncio.timeout(30):
            while True:
                status, erase = await officer.call("GET", f"{DESK}/requests/{erase_id}")
                assert status == 200
                if erase["status"] == "completed":
                    break
                await asyncio.sleep(0.2)
        assert erase["kind"] == "erase" and "detail" not in erase
    logs = shop_logs.getvalue()
    for needle in ("Отзывова", "Алия"):
        assert needle not in logs
