"""A transfer abroad through the whole shop behind nginx (Law 94-V art. 16): the courier is
configured outside Kazakhstan; a customer who did not consent to transfers abroad gets no
release to it (the dispatch is refused, the order fails, the courier hears nothing); after
the separate consent through the public API the next order is delivered and the register
names the country."""

from __future__ import annotations

import aiohttp
import pytest

from tests.e2e.shopper import Profile, Shopper
from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")


class Traveller(Shopper):
    profile = Profile(
        "abroad", "Шетелова", "Динара", "747", {"city": "Тараз", "street": "Толе би", "house": "5"}
    )


SHOP_TUNING = {"customers": {"courier_countries": {"sandbox": "DE"}}}


async def test_a_courier_abroad_gets_the_parcel_only_after_the_consent(shop: Stack) -> None:
    async with aiohttp.ClientSession() as session:
        shopper = Traveller(session, shop.gateway_url)
        await shopper.sign_up(1)
        product = await shopper.in_stock_product()

        first = await shopper.checkout(product, "cash_on_delivery")
        await shopper.wait_status(first["id"], "failed")
        assert not [d for d in shop.courier.received if d["order_ref"] == first["order_ref"]]
        _, register = await shopper.call("GET", "/api/customers/me/disclosures")
        assert not [i for i in register["items"] if i["recipient"] == "courier:sandbox"]

        _, consents = await shopper.call("GET", "/api/customers/me/consents")
        assert consents["cross_border_transfer"] is False
        assert consents["recipients_abroad"] == [{"recipient": "courier:sandbox", "country": "DE"}]
        status, consents = await shopper.call(
            "PUT", "/api/customers/me/consents", json={"cross_border_transfer": True}
        )
        assert status == 200 and consents["cross_border_transfer"] is True

        second = await shopper.checkout(product, "cash_on_delivery")
        await shopper.wait_status(second["id"], "delivered")
        assert [d for d in shop.courier.received if d["order_ref"] == second["order_ref"]]
        _, register = await shopper.call("GET", "/api/customers/me/disclosures")
        (courier,) = [i for i in register["items"] if i["recipient"] == "courier:sandbox"]
        assert courier["order_ref"] == second["order_ref"] and courier["country"] == "DE"
        assert "transfer abroad (DE)" in courier["legal_basis"]
