"""Erasure in the customers service: ``DELETE /api/customers/me`` with the password.

The account closes at once (no sign-in, no token, no refresh), the data key and the sealed
fields are destroyed, ``CustomerErased`` goes out, and the request completes when orders
and notifications have confirmed. Orders not answering defers it ("checking") until a chore
finds orders up again (a real orders app, started late on the port customers was given).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Awaitable, Callable
from typing import Any
from uuid import UUID

import asyncpg

from deploy.gateway import free_port
from deploy.smtp_sink import SmtpSink
from services.customers.data_map import DATA_MAP, KEYSTORE_MAP
from services.customers.erasure import CLOSE_STEPS, SHRED_STEPS, SHREDDED_BY_THE_GATE
from services.customers.rights import Deferral, deferral_for
from services.notifications.app import create_app as notifications_app
from services.notifications.config import Settings as NotificationsSettings
from services.orders.app import create_app as orders_app
from services.orders.config import Settings as OrdersSettings
from shared.contracts import NotificationsDepersonalised, OrdersDepersonalised
from shared.data_map import Erasure
from shared.service import running_app
from tests.customers.conftest import INTERNAL_TOKEN, MakeShop, Shop, registration
from tests.shared.messaging_helpers import publish

PASSWORD = "correct horse battery"
PD_VALUES = ["Жумабекова", "Айгерим", "Нурлановна", "aigerim.test@example.kz", "77012345678",
             "проспект Тауке хана", "домофон 42 звонить"]  # fmt: skip


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 10.0) -> Any:
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(0.05)
    return result


async def signed_in(shop: Shop, **overrides: Any) -> tuple[str, str, str]:
    """(customer id, access token, refresh cookie) of a new customer."""
    customer_id = await shop.register(**overrides)
    login = overrides.get("email", "Aigerim.Test@Example.kz")
    async with shop.http.post(
        shop.url + "/api/customers/login", json={"login": login, "password": PASSWORD}
    ) as response:
        body = await response.json()
        cookie = response.cookies["refresh_token"].value
    return customer_id, body["access_token"], cookie


async def erase(shop: Shop, token: str, password: str = PASSWORD) -> tuple[int, Any, str]:
    async with shop.http.delete(
        shop.url + "/api/customers/me",
        json={"password": password},
        headers={"Authorization": f"Bearer {token}"},
    ) as response:
        return response.status, await response.json(content_type=None), response.content_type


async def row(shop: Shop, query: str, *args: Any) -> asyncpg.Record | None:
    conn = await shop.db()
    try:
        return await conn.fetchrow(query, *args)
    finally:
        await conn.close()


async def keys_of(shop: Shop, customer_id: UUID) -> int:
    """How many data keys of the customer the key store holds (0 once shredded)."""
    conn = await shop.keystore_db()
    try:
        count: int = await conn.fetchval(
            "SELECT count(*) FROM customer_keys WHERE customer_id = $1", customer_id
        )
        return count
    finally:
        await conn.close()


async def erased_outbox(shop: Shop) -> list[dict[str, Any]]:
    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT body FROM outbox WHERE message_type = 'customers.customer.erased'"
        )
    finally:
        await conn.close()
    return [json.loads(bytes(r["body"])) for r in rows if r["body"]]


async def test_a_wrong_password_erases_nothing_and_is_throttled(shop_factory: MakeShop) -> None:
    shop = await shop_factory(login_free_failures_account=2)
    customer_id, token, _ = await signed_in(shop)
    for _ in range(2):
        status, body, content_type = await erase(shop, token, "not my password")
        assert (status, content_type) == (403, "application/problem+json")
        assert "not my password" not in json.dumps(body)
    status, body, _ = await erase(shop, token, "not my password")
    assert status == 429 and body["retry_after"] >= 1
    status, body, _ = await erase(shop, token)  # the right one waits out the delay too
    assert status == 429
    state = await row(shop, "SELECT status FROM customers WHERE id = $1", UUID(customer_id))
    assert state is not None and state["status"] == "active"
    assert (await shop.call("GET", "/api/customers/me", token=token))[0] == 200


async def test_erasure_closes_the_account_shreds_and_completes_on_confirmations(
    shop: Shop,
) -> None:
    customer_id, token, cookie = await signed_in(shop)
    cid = UUID(customer_id)
    status, answer, _ = await erase(shop, token)
    assert status == 202, answer
    assert answer["status"] == "in_progress"
    assert answer["confirmations"] == {"orders": False, "notifications": False}
    assert answer["due"] and "reason" not in answer
    request_id = UUID(answer["request_id"])

    # Access ends at once: the token, the refresh cookie, the password.
    assert (await shop.call("GET", "/api/customers/me", token=token))[0] == 401
    refreshed = await shop.call(
        "POST", "/api/customers/token/refresh", headers={"Cookie": f"refresh_token={cookie}"}
    )
    assert refreshed[0] == 401
    login = await shop.call(
        "POST",
        "/api/customers/login",
        json={"login": "aigerim.test@example.kz", "password": PASSWORD},
    )
    assert login[0] == 401
    # The account row keeps only the id, 'erased' and the dates; the key and fields are gone.
    account = await row(
        shop,
        "SELECT status, password_hash, email_index, phone_index,"
        " (SELECT count(*) FROM customer_pd WHERE customer_id = c.id) AS fields,"
        " (SELECT count(*) FROM refresh_sessions WHERE customer_id = c.id) AS sessions"
        " FROM customers c WHERE id = $1",
        cid,
    )
    assert account is not None and dict(account) == {
        "status": "erased", "password_hash": None, "email_index": None, "phone_index": None,
        "fields": 0, "sessions": 0,
    }  # fmt: skip
    assert await keys_of(shop, cid) == 0  # destroyed in the key store
    # The email and phone are free again: the person may open a new account.
    assert (await shop.call("POST", "/api/customers/register", json=registration()))[0] == 201
    # The other services are told, with ids only.
    [erased] = await eventually(lambda: erased_outbox(shop))
    assert erased["customer_id"] == customer_id and erased["request_id"] == str(request_id)
    assert set(erased) == {"customer_id", "request_id", "erased_at"}

    # The request completes when both confirmations have arrived (the order does not matter).
    await publish(
        shop.settings.amqp_url,
        NotificationsDepersonalised(request_id=request_id, deliveries_unlinked=3),
    )
    await eventually(lambda: _confirmed(shop, request_id, 1))
    assert await _request_status(shop, request_id) == "in_progress"
    confirmation = OrdersDepersonalised(request_id=request_id, orders_unlinked=2, carts_deleted=1)
    await publish(shop.settings.amqp_url, confirmation)
    await eventually(lambda: _completed(shop, request_id))
    await publish(shop.settings.amqp_url, confirmation)  # a duplicate changes nothing
    await asyncio.sleep(0.3)
    assert await _confirmed(shop, request_id, 2)
    audit = await row(
        shop,
        # Pending or already chained: the chainer seals rows in the background.
        "SELECT count(*) AS n FROM (SELECT id FROM audit_log WHERE customer_id = $1"
        " AND action = 'shred' UNION ALL SELECT id FROM audit_pending WHERE customer_id = $1"
        " AND action = 'shred') AS shredded",
        cid,
    )
    assert audit is not None and audit["n"] == 1


async def _request_status(shop: Shop, request_id: UUID) -> str:
    found = await row(shop, "SELECT status FROM subject_requests WHERE id = $1", request_id)
    assert found is not None
    return str(found["status"])


async def _confirmed(shop: Shop, request_id: UUID, n: int) -> bool:
    found = await row(
        shop,
        "SELECT count(*) AS n FROM erasure_confirmations WHERE request_id = $1",
        request_id,
    )
    return found is not None and found["n"] == n


async def _completed(shop: Shop, request_id: UUID) -> bool:
    found = await row(
        shop,
        "SELECT e.state, r.status, r.resolved_at FROM erasures e"
        " JOIN subject_requests r ON r.id = e.request_id WHERE e.request_id = $1",
        request_id,
    )
    return (
        found is not None
        and (found["state"], found["status"]) == ("completed", "completed")
        and found["resolved_at"] is not None
    )


async def test_with_orders_down_the_erasure_waits_and_a_chore_finishes_it(
    shop_factory: MakeShop,
    make_database: Callable[[str], Awaitable[str]],
    vhost: str,
    signing_keys: tuple[str, str],
) -> None:
    port = free_port()  # nothing listens here yet: orders is down
    shop = await shop_factory(
        orders_url=f"http://127.0.0.1:{port}",
        erasure_recheck_s=0.3,
        erasure_chore_interval_s=0.1,
    )
    customer_id, token, _ = await signed_in(shop)
    status, answer, _ = await erase(shop, token)
    assert status == 202 and answer["status"] == "deferred"
    assert answer["reason"] == "checking" and answer["reason_text"] and answer["completes_when"]
    # Closed at once all the same, the data kept until the check is done.
    assert (await shop.call("GET", "/api/customers/me", token=token))[0] == 401
    assert await keys_of(shop, UUID(customer_id)) == 1
    await asyncio.sleep(0.5)  # checked again meanwhile, still nobody there
    assert await _request_status(shop, UUID(answer["request_id"])) == "deferred"

    orders_settings = OrdersSettings(
        database_url=await make_database("orders"),
        amqp_url=vhost,
        jwt_public_key=signing_keys[1],
        internal_token=INTERNAL_TOKEN,
        catalog_url="http://127.0.0.1:9",
        couriers=("sandbox",),
    )
    async with running_app(orders_app(orders_settings), port=port):
        await eventually(lambda: _shredded(shop, UUID(customer_id)))
    assert await _request_status(shop, UUID(answer["request_id"])) == "in_progress"


async def _shredded(shop: Shop, customer_id: UUID) -> bool:
    return await keys_of(shop, customer_id) == 0


def test_every_table_the_data_map_erases_has_a_step() -> None:
    holdings = (*DATA_MAP.holdings, *KEYSTORE_MAP.holdings)
    changed = {
        h.table
        for h in holdings
        if h.erasure in (Erasure.DELETE, Erasure.DEPERSONALISE, Erasure.SHRED) and h.via is None
    }
    steps = {table for table, _ in (*CLOSE_STEPS, *SHRED_STEPS)} | set(SHREDDED_BY_THE_GATE)
    assert changed <= steps, f"no erasure step for {sorted(changed - steps)}"
    assert steps <= set(DATA_MAP.tables()) | set(KEYSTORE_MAP.tables())


async def test_a_missing_confirmation_makes_it_announced_again_until_both_came(
    shop_factory: MakeShop,
) -> None:
    shop = await shop_factory(erasure_recheck_s=0.3, erasure_chore_interval_s=0.1)
    customer_id, token, _ = await signed_in(shop)
    status, answer, _ = await erase(shop, token)
    assert status == 202 and answer["status"] == "in_progress"
    request_id = UUID(answer["request_id"])

    async def announced(n: int) -> bool:
        return len(await erased_outbox(shop)) >= n

    await eventually(lambda: announced(2))  # no confirmation came: told once more
    bodies = await erased_outbox(shop)
    assert {(b["customer_id"], b["request_id"]) for b in bodies} == {(customer_id, str(request_id))}
    await publish(
        shop.settings.amqp_url,
        OrdersDepersonalised(request_id=request_id, orders_unlinked=0, carts_deleted=0),
    )
    await publish(
        shop.settings.amqp_url,
        NotificationsDepersonalised(request_id=request_id, deliveries_unlinked=0),
    )
    await eventually(lambda: _completed(shop, request_id))
    settled = len(await erased_outbox(shop))
    await asyncio.sleep(0.8)
    assert len(await erased_outbox(shop)) == settled  # completed: no more announcements


def test_what_defers_an_erasure() -> None:
    order = {"kind": "order", "order_ref": "SH-1", "status": "dispatched"}
    refund = {"kind": "refund", "order_ref": "SH-2", "status": "cancelled"}
    assert deferral_for([]) is None  # nothing open: erase now
    assert deferral_for(None) == Deferral("checking", ())  # orders did not answer
    assert deferral_for([refund]) == Deferral("open_refund", ("SH-2",))
    # An order in delivery outranks a refund: the address is still needed.
    assert deferral_for([refund, order, order]) == Deferral("open_order", ("SH-2", "SH-1"))


async def test_the_confirmation_mail_goes_before_the_shred_and_never_holds_it(
    shop_factory: MakeShop,
    make_database: Callable[[str], Awaitable[str]],
    vhost: str,
    signing_keys: tuple[str, str],
) -> None:
    """Notifications (real, with the real SMTP sink) gets the address while it exists and
    mails at once; the release is in the register. With notifications away the erasure goes
    on without the mail."""
    async with SmtpSink("127.0.0.1", smtp_port=0) as sink:
        settings = NotificationsSettings(
            database_url=await make_database("notifications"),
            amqp_url=vhost,
            jwt_public_key=signing_keys[1],
            internal_token=INTERNAL_TOKEN,
            smtp_port=sink.smtp_port,
        )
        async with running_app(notifications_app(settings)) as notifications_url:
            shop = await shop_factory(notifications_url=notifications_url)
            customer_id, token, _ = await signed_in(shop)
            status, answer, _ = await erase(shop, token)
            assert status == 202 and answer["status"] == "in_progress", answer
            [mail] = sink.messages  # already there when DELETE /me answered
        assert [to.lower() for to in mail.rcpt_tos] == ["aigerim.test@example.kz"]
        assert answer["request_id"] in mail.body() and "Айгерим" in mail.body()
        assert mail.message["Content-Language"] == "kk"
        assert await keys_of(shop, UUID(customer_id)) == 0
        release = await row(
            shop,
            "SELECT purpose, recipient, reason, fields FROM disclosures WHERE customer_id = $1",
            UUID(customer_id),
        )
        assert release is not None
        assert (release["purpose"], release["recipient"], release["reason"]) == (
            "service_communication",
            "notifications",
            "erasure_confirmation",
        )

        away = await shop_factory(notifications_url=f"http://127.0.0.1:{free_port()}")
        other, token, _ = await signed_in(away, email="second@example.kz", phone="+7 701 555 01 01")
        status, answer, _ = await erase(away, token)
        assert status == 202 and answer["status"] == "in_progress", answer
        assert await keys_of(away, UUID(other)) == 0
        assert len(sink.messages) == 1
