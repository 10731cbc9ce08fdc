"""Support's contact lookup through the gateway (policy 3.2.4): a shopper's order, a support
agent who sees the name and phone of its customer for a reason code, the customer who reads
it in their register; customers asked orders over the internal API, which the gateway hides.
"""

from __future__ import annotations

import io
import uuid

import aiohttp
import pytest

from tests.e2e.shopper import Profile, Shopper
from tests.e2e.stack import Stack, staff

pytestmark = pytest.mark.asyncio(loop_scope="session")

LOOKUPS = "/api/customers/support/contact-lookups"


class Caller(Shopper):
    profile = Profile(
        "support",
        "Серикова",
        "Мадина",
        "705",
        {"city": "Астана", "street": "Кенесары", "house": "40"},
    )


async def test_support_reaches_the_customer_of_an_order_and_the_register_says_so(
    shop: Stack, shop_logs: io.StringIO
) -> None:
    async with aiohttp.ClientSession() as session:
        shopper = Caller(session, shop.gateway_url)
        await shopper.sign_up(1)
        order = await shopper.checkout(await shopper.in_stock_product(), "cash_on_delivery")

        agent = staff(session, shop, "support")
        body = {"order_id": order["id"], "reason": "customer_callback"}
        status, found = await agent.call("POST", LOOKUPS, json=body)
        assert status == 201, found
        assert found["contact"]["name"] == "Мадина Серикова"
        assert found["contact"]["phone"].startswith("+7705")
        assert found["order_ref"] == order["order_ref"]

        # The customer's token is no support's; an unknown order is a plain 404.
        status, problem = await shopper.call("POST", LOOKUPS, json=body)
        assert status == 403, problem
        status, problem = await agent.call(
            "POST", LOOKUPS, json={"order_id": str(uuid.uuid4()), "reason": "order_question"}
        )
        assert status == 404 and problem["title"] == "Not found"
        # The order -> customer link stays internal.
        status, _ = await agent.call("GET", f"/internal/orders/{order['id']}/customer")
        assert status == 404

        status, register = await shopper.call("GET", "/api/customers/me/disclosures")
        assert status == 200
        (item,) = [i for i in register["items"] if i["purpose"] == "support"]
        assert item["recipient"] == "staff:support" and item["reason"] == "customer_callback"
        assert item["order_ref"] == order["order_ref"] and item["country"] == "KZ"
        assert item["fields"] == ["phone", "recipient_name"]
    logs = shop_logs.getvalue()
    assert "support contact released" in logs
    for value in ("Серикова", "Мадина", found["contact"]["phone"]):
        assert value not in logs
