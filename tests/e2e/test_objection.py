"""An objection to an automated decision through the gateway (Law 94-V art. 19-1): the
checkout velocity refusal says how to object; the customer does exactly that; the privacy
officer finds the decision the objection names and answers it at the desk."""

from __future__ import annotations

import asyncio
import time
import uuid
from datetime import date

import aiohttp
import pytest

from tests.e2e.shopper import Profile, Shopper, resolve_at_desk
from tests.e2e.stack import Stack, staff

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Hurried(Shopper):
    profile = Profile(
        "objection",
        "Бекова",
        "Жанар",
        "707",
        {"city": "Алматы", "street": "Сатпаева", "house": "9"},
    )


SHOP_TUNING = {"orders": {"checkout_limit_per_account_per_min": 1}}


async def test_the_refused_customer_objects_and_the_officer_finds_the_decision(
    shop: Stack,
) -> None:
    if time.time() % 60 > 45:  # one calendar minute for both checkouts
        await asyncio.sleep(61 - time.time() % 60)
    async with aiohttp.ClientSession() as session:
        shopper = Hurried(session, shop.gateway_url)
        await shopper.sign_up(1)
        product = await shopper.in_stock_product()
        await shopper.checkout(product, "cash_on_delivery")
        status, _ = await shopper.call(
            "POST", "/api/orders/cart/items", json={"product_id": product, "quantity": 1}
        )
        assert status == 200
        status, problem = await shopper.call(
            "POST",
            "/api/orders/checkout",
            json={"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert status == 429, problem
        assert problem["type"] == "automated-decision"
        objection = problem["objection"]

        status, filed = await shopper.call(
            objection["method"], objection["href"], json=objection["body"]
        )
        assert status == 201, filed
        assert filed["kind"] == "objection" and filed["status"] == "received"
        assert date.fromisoformat(filed["due"]) > date.today()
        _, mine = await shopper.call("GET", "/api/customers/me/requests")
        (listed,) = [r for r in mine["items"] if r["id"] == filed["id"]]
        assert problem["decision_id"] in listed.get("detail", "")

        officer = staff(session, shop, "privacy_officer")
        status, decision = await officer.call(
            "GET", f"/api/orders/decisions/{problem['decision_id']}"
        )
        assert status == 200, decision
        assert decision["kind"] == "checkout_velocity" and decision["rule"] == "account"
        assert decision["attempts"] == 2 and decision["limit_per_min"] == 1

        # The desk: the objection is in the queue on its clock, its page names the decision,
        # and the officer's reasoned answer reaches the customer.
        status, queue = await officer.call("GET", "/api/customers/privacy/requests?kind=objection")
        assert status == 200
        (queued,) = [r for r in queue["items"] if r["id"] == filed["id"]]
        assert queued["due"] == filed["due"] and queued["overdue"] is False
        status, opened = await officer.call("GET", f"/api/customers/privacy/requests/{filed['id']}")
        assert status == 200 and problem["decision_id"] in opened["detail"]
        answer = "Решение проверено сотрудником: два заказа за минуту при лимите в один."
        body = {"outcome": "refused", "answer": answer, "reason": "decision_upheld"}
        await resolve_at_desk(officer, filed["id"], body)
        answered_item = await shopper.my_request(filed["id"])
        assert answered_item["status"] == "refused" and answered_item["resolution"] == answer
        assert answered_item["reason"] == "decision_upheld"

        # The right of access: the decision is in the customer's export, and on its page.
        status, export = await shopper.call("GET", "/api/customers/me/export")
        assert status == 200 and export["complete"] is True
        assert [d["id"] for d in export["decisions"]] == [problem["decision_id"]]
