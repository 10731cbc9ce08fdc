"""Notice of a transfer the consent did not name (Law 94-V art. 19(1), 10 working days): a
release to such a recipient files a ``transfer_notice`` request on the desk, once."""

from __future__ import annotations

from datetime import date, datetime

from services.customers.domain import THIRD_PARTIES, unnamed_transfer
from services.customers.rights import request_due
from tests.customers.conftest import INTERNAL_TOKEN, MakeShop, Shop
from tests.customers.desk_helpers import officer

INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}
PROCESSING = {"third_party_transfer": {"allowed": True, "recipients": list(THIRD_PARTIES)}}


def email_release(customer_id: str) -> dict[str, str]:
    return {
        "customer_id": customer_id,
        "purpose": "service_communication",
        "recipient": "notifications",
        "channel": "email",
    }


async def consent_abroad(shop: Shop, login: str) -> str:
    token = await shop.login(login)
    status, body = await shop.call(
        "PUT", "/api/customers/me/consents", token=token, json={"cross_border_transfer": True}
    )
    assert status == 200, body
    return token


async def transfer_notices(shop: Shop, token: str) -> list[dict[str, object]]:
    status, body = await shop.call("GET", "/api/customers/me/requests", token=token)
    assert status == 200, body
    return [r for r in body["items"] if r["kind"] == "transfer_notice"]


async def test_a_recipient_abroad_the_consent_did_not_name_files_one_notice(
    shop_factory: MakeShop,
) -> None:
    home = await shop_factory()  # nothing abroad when the customer consents
    customer_id = await home.register()
    token = await consent_abroad(home, "aigerim.test@example.kz")
    abroad = await shop_factory(mail_provider_country="NL")  # the mail provider moved abroad

    for _ in range(2):
        status, release = await abroad.call(
            "POST", "/internal/releases", json=email_release(customer_id), headers=INTERNAL
        )
        assert status == 200, release
    (notice,) = await transfer_notices(abroad, token)  # one per recipient, not per release
    assert notice["status"] == "received"
    filed_at = datetime.fromisoformat(str(notice["filed_at"]))
    assert date.fromisoformat(str(notice["due"])) == request_due("transfer_notice", filed_at)
    assert (date.fromisoformat(str(notice["due"])) - filed_at.date()).days >= 14  # 10 WD
    assert "notifications (NL)" in str(notice["detail"]) and "19(1)" in str(notice["detail"])

    desk = await officer(abroad)
    status, queue = await abroad.call(
        "GET", "/api/customers/privacy/requests?kind=transfer_notice", token=desk.token
    )
    assert status == 200, queue
    assert [item["id"] for item in queue["items"]] == [notice["id"]]
    conn = await abroad.db()
    try:
        row = await conn.fetchrow("SELECT * FROM transfer_notices")
    finally:
        await conn.close()
    assert (row["recipient_kind"], row["recipient"], row["country"]) == (
        "email",
        "notifications",
        "NL",
    )
    assert str(row["request_id"]) == notice["id"]


async def test_a_named_recipient_files_no_notice(shop_factory: MakeShop) -> None:
    shop = await shop_factory(mail_provider_country="NL", courier_countries={"sandbox": "KZ"})
    customer_id = await shop.register()
    token = await consent_abroad(shop, "aigerim.test@example.kz")  # names notifications:email
    status, _ = await shop.call(
        "POST", "/internal/releases", json=email_release(customer_id), headers=INTERNAL
    )
    assert status == 200
    assert await transfer_notices(shop, token) == []


def test_which_transfers_the_consent_did_not_name() -> None:
    # A courier or bank is a third party the processing consent lists (policy 4.3.2).
    assert not unnamed_transfer("courier", "courier:sandbox", "KZ", PROCESSING, None)
    assert unnamed_transfer("courier", "courier:sandbox", "KZ", {"data": []}, None)
    narrow = {"third_party_transfer": {"allowed": True, "recipients": ["banks (payment)"]}}
    assert unnamed_transfer("courier", "courier:sandbox", "KZ", narrow, None)
    # Abroad: the consent to transfers abroad names the recipients abroad at the time.
    named = {"recipients_abroad": [{"recipient": "courier:dhl", "country": "DE"}]}
    assert not unnamed_transfer("courier", "courier:dhl", "DE", PROCESSING, named)
    assert unnamed_transfer("courier", "courier:ups", "US", PROCESSING, named)
    assert unnamed_transfer("email", "notifications", "NL", PROCESSING, named)
    # Our own services and staff at home are no third party.
    assert not unnamed_transfer("email", "notifications", "KZ", None, None)
    assert not unnamed_transfer("staff", "staff:support", "KZ", None, None)
