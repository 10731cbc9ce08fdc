"""A promotion through the whole shop: a marketer starts one at the gateway, the storefront
shows the promoted price beside the regular one, a shopper checks out at it, and the order
keeps that price after the marketer ends the promotion."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from tests.e2e.shopper import Profile, Shopper
from tests.e2e.stack import Stack, staff

pytestmark = pytest.mark.asyncio(loop_scope="session")


class PromotionShopper(Shopper):
    profile = Profile(
        tag="promo",
        last_name="Жумабаева",
        first_name="Салтанат",
        operator="707",
        address={"city": "Караганда", "street": "Бухар-Жырау", "house": "47"},
    )


async def test_a_shopper_checks_out_at_the_promoted_price(shop: Stack) -> None:
    async with aiohttp.ClientSession() as session:
        shopper = PromotionShopper(session, shop.gateway_url)
        await shopper.sign_up(1)
        product_id = await shopper.in_stock_product()
        _, before = await shopper.call("GET", f"/api/catalog/products/{product_id}")
        regular = before["price"]["amount"]
        assert "regular_price" not in before

        marketer = staff(session, shop, "marketer")
        now = datetime.now(UTC)
        status, promotion = await marketer.call(
            "POST",
            "/api/catalog/promotions",
            json={
                "name": "Скидка недели",
                "discount": {"percent": 25},
                "product_ids": [product_id],
                "starts_at": (now - timedelta(minutes=1)).isoformat(),
                "ends_at": (now + timedelta(days=7)).isoformat(),
            },
        )
        assert status == 201 and promotion["status"] == "live", promotion
        promoted = regular * 75 // 100

        _, shown = await shopper.call("GET", f"/api/catalog/products/{product_id}")
        assert shown["price"]["amount"] == promoted
        assert shown["regular_price"]["amount"] == regular
        assert shown["promotion"]["id"] == promotion["id"]

        placed = await shopper.checkout(product_id, "cash_on_delivery", quantity=2)
        status, ended = await marketer.call(
            "PATCH", f"/api/catalog/promotions/{promotion['id']}", json={"status": "ended"}
        )
        assert status == 200 and ended["status"] == "ended"
        _, after = await shopper.call("GET", f"/api/catalog/products/{product_id}")
        assert after["price"]["amount"] == regular and "regular_price" not in after

        order = await shopper.wait_status(placed["id"], "dispatched")
        assert order["total"] == {"amount": 2 * promoted, "currency": "KZT"}
        [line] = order["items"]
        assert line["unit_price"]["amount"] == promoted
        assert line["regular_price"]["amount"] == regular
