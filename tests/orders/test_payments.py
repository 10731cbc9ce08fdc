"""Card payments through the real broker and the sandbox bank adapter: the bank request,
signed callbacks (forged, late, replayed), expiry, refunds, courier timeouts, IP statistics
and velocity limits."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from deploy.sandbox_bank import SandboxBank
from services.orders import maintenance, retention
from shared.contracts import DispatchRefused, StockReserved
from shared.db import create_pool
from shared.messaging import PAYMENTS_EXCHANGE
from shared.retention import run_one
from shared.signing import signed_headers
from tests.orders.conftest import BANK_PUBLIC_URL, BANK_SECRET, EventTap, Orders

MakeTap = Callable[..., Awaitable[EventTap]]
CALLBACK = "/api/payments/sandbox/callbacks"
BANK_FIELDS = {"payment_id", "order_ref", "amount", "currency", "description", "return_url"}


@pytest.fixture
async def bank(orders: Orders) -> AsyncIterator[SandboxBank]:
    async with SandboxBank(
        orders.settings.amqp_url,
        callback_base_url=orders.url,
        secret=BANK_SECRET,
        public_url=BANK_PUBLIC_URL,
        delay_s=0.05,
        retry_delays_s=(0.2,),
    ) as adapter:
        yield adapter


async def _awaiting(orders: Orders, customer: UUID, **kwargs: Any) -> dict[str, Any]:
    placed = await orders.placed_order(customer, method="card", **kwargs)
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=600))
    return await orders.wait_status(customer, placed["id"], "awaiting_payment")


async def _signed(
    orders: Orders, body: dict[str, Any], *, secret: str = BANK_SECRET, now: float | None = None
) -> tuple[int, Any]:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **signed_headers(secret, raw, now=now)}
    async with orders.http.post(orders.url + CALLBACK, data=raw, headers=headers) as response:
        return response.status, await response.json(content_type=None)


def _event(order: dict[str, Any], status: str, **extra: Any) -> dict[str, Any]:
    return {
        "event_id": str(uuid4()),
        "payment_id": order["payment"]["id"],
        "status": status,
        "amount": order["total"]["amount"],
        "currency": "KZT",
        **extra,
    }


async def test_the_bank_gets_exactly_the_payment_fields(orders: Orders, tap: MakeTap) -> None:
    customer = uuid4()
    events = await tap("orders.order.awaiting_payment")
    channel = await orders.amqp.channel()
    queue = await channel.declare_queue(exclusive=True, auto_delete=True)
    await queue.bind(PAYMENTS_EXCHANGE, "bank.sandbox")
    order = await _awaiting(orders, customer)
    message = await queue.get(timeout=5)
    assert message.type == "payments.payment.requested"
    request = json.loads(message.body)
    assert set(request) == BANK_FIELDS
    assert request["payment_id"] == order["payment"]["id"]
    assert request["order_ref"] == order["order_ref"]
    assert (request["amount"], request["currency"]) == (order["total"]["amount"], "KZT")
    assert request["description"] == f"Заказ {order['order_ref']}"
    assert str(customer) not in message.body.decode()
    assert "Vitamin" not in message.body.decode() and "SKU" not in message.body.decode()
    assert order["payment_url"] == f"{BANK_PUBLIC_URL}/pay/{order['payment']['id']}"
    assert order["payment"]["status"] == "requested"
    announced = await events.next("orders.order.awaiting_payment")
    assert announced["order_id"] == order["id"]
    # The customer's mail links the page they pay on (notifications has no other way to it).
    assert announced["payment_url"] == order["payment_url"]
    await channel.close()


async def test_paid_through_the_bank_page_goes_to_dispatch(
    orders: Orders, bank: SandboxBank, tap: MakeTap
) -> None:
    customer = uuid4()
    events = await tap("orders.order.paid", "orders.dispatch.requested", "orders.payment.#")
    order = await _awaiting(orders, customer)
    record = await bank.wait_for(order["payment"]["id"])
    assert set(record["request"]) == BANK_FIELDS
    assert await bank.complete(order["payment"]["id"], "succeeded") == 200
    paid = await orders.wait_status(customer, order["id"], "paid")
    assert paid["payment_url"] is None and paid["payment"]["status"] == "succeeded"
    assert (await events.next("orders.payment.succeeded"))["payment_id"] == record["request"][
        "payment_id"
    ]
    assert (await events.next("orders.order.paid"))["status"] == "paid"
    requested = await events.next("orders.dispatch.requested")
    assert requested["cash_on_delivery"] is None
    assert requested["parcel"] == {"count": 2, "weight_g": 600}
    await orders.release_dispatch(requested, order["id"])
    done = await orders.wait_status(customer, order["id"], "dispatched")
    assert [h["cause"] for h in done["history"]] == [
        "checkout", "stock_reserved", "payment_confirmed", "dispatch_released",
    ]  # fmt: skip


async def test_declined_payment_cancels_the_order(
    orders: Orders, bank: SandboxBank, tap: MakeTap
) -> None:
    customer = uuid4()
    events = await tap("orders.order.cancelled", "orders.dispatch.requested")
    order = await _awaiting(orders, customer)
    await bank.wait_for(order["payment"]["id"])
    assert await bank.complete(order["payment"]["id"], "declined") == 200
    cancelled = await orders.wait_status(customer, order["id"], "cancelled")
    assert cancelled["history"][-1]["cause"] == "payment_declined"
    assert cancelled["payment"]["status"] == "declined"
    assert (await events.next("orders.order.cancelled"))["order_id"] == order["id"]
    assert await events.types() == []


async def test_forged_late_and_replayed_callbacks_change_nothing(
    orders: Orders, tap: MakeTap
) -> None:
    customer = uuid4()
    events = await tap("orders.order.paid", "orders.dispatch.requested")
    order = await _awaiting(orders, customer)
    paid = _event(order, "succeeded")

    assert (await _signed(orders, paid, secret="forged"))[0] == 401
    assert (await _signed(orders, paid, now=time.time() - 3600))[0] == 401
    async with orders.http.post(orders.url + CALLBACK, json=paid) as response:
        assert response.status == 401
    async with orders.http.post(
        orders.url + "/api/payments/pigeon/callbacks", json=paid
    ) as response:
        assert response.status == 404
    assert (await _signed(orders, {**paid, "payment_id": str(uuid4())}))[0] == 404
    assert (await _signed(orders, {**paid, "amount": 1}))[0] == 422
    assert (await _signed(orders, {**paid, "customer": "x"}))[0] == 422
    assert (await orders.order(customer, order["id"]))["status"] == "awaiting_payment"

    assert await _signed(orders, paid) == (200, {"result": "applied"})
    await orders.wait_status(customer, order["id"], "paid")
    # The same event again: nothing more. The same id with another body: refused.
    assert await _signed(orders, paid) == (200, {"result": "duplicate"})
    assert (await _signed(orders, {**paid, "status": "declined"}))[0] == 409
    # Another event id for the already final payment: no second effect; a contradiction: 409.
    assert await _signed(orders, _event(order, "succeeded")) == (200, {"result": "duplicate"})
    assert (await _signed(orders, _event(order, "declined")))[0] == 409
    assert sorted(await events.types(wait_s=1.0)) == [
        "orders.dispatch.requested",
        "orders.order.paid",
    ]
    final = await orders.order(customer, order["id"])
    assert [h["status"] for h in final["history"]].count("paid") == 1


async def test_validly_signed_but_hostile_callback_bodies_are_4xx_problems(
    orders: Orders,
) -> None:
    customer = uuid4()
    order = await _awaiting(orders, customer)
    paid = _event(order, "succeeded")
    text = json.dumps(paid)
    bodies = {
        "UTF-16": (text.encode("utf-16"), 400),
        "duplicate key": (text.replace("{", '{"status": "declined", ', 1).encode(), 422),
        "deep": (text[:-1].encode() + b', "x": ' + b"[" * 2000 + b"]" * 2000 + b"}", 422),
    }
    for name, (raw, status) in bodies.items():
        headers = {"Content-Type": "application/json", **signed_headers(BANK_SECRET, raw)}
        async with orders.http.post(orders.url + CALLBACK, data=raw, headers=headers) as r:
            assert (r.status, r.content_type) == (status, "application/problem+json"), name
    assert (await orders.order(customer, order["id"]))["status"] == "awaiting_payment"


@pytest.mark.parametrize("orders_overrides", [{"payment_timeout_s": 1}])
async def test_unpaid_orders_expire_and_a_late_payment_is_refunded(
    orders: Orders, bank: SandboxBank, tap: MakeTap
) -> None:
    customer = uuid4()
    events = await tap("orders.order.cancelled", "orders.payment.#")
    order = await _awaiting(orders, customer)
    expired = await orders.wait_status(customer, order["id"], "cancelled", timeout=10)
    assert expired["history"][-1]["cause"] == "payment_expired"
    assert expired["payment"]["status"] == "cancelled" and expired["payment_url"] is None
    assert (await events.next("orders.order.cancelled"))["order_id"] == order["id"]
    assert (await events.next("orders.payment.cancelled"))["order_id"] == order["id"]
    # Another round finds nothing more to do.
    pool = await create_pool(orders.dsn, min_size=1, max_size=2)
    try:
        assert (await maintenance.run_once(pool, orders.settings)).expired == 0
    finally:
        await pool.close()

    # The customer still pays on the bank's page: the money goes straight back.
    await bank.wait_for(order["payment"]["id"])
    assert await bank.complete(order["payment"]["id"], "succeeded") == 200
    await bank.wait_refund(order["payment"]["id"])
    assert (await events.next("orders.payment.refund_requested"))["status"] == "refund_requested"
    refunded = await events.next("orders.payment.refunded")
    assert refunded["amount"] == order["total"]
    # Whose refund it is, for the customer's mail; when the order was placed (a block).
    assert refunded["customer_id"] == str(customer)
    placed_at = datetime.fromisoformat(refunded["placed_at"])
    assert placed_at == datetime.fromisoformat(order["created_at"])
    final = await orders.order(customer, order["id"])
    assert (final["status"], final["payment"]["status"]) == ("cancelled", "refunded")


async def test_a_paid_order_that_fails_is_refunded(
    orders: Orders, bank: SandboxBank, tap: MakeTap
) -> None:
    customer = uuid4()
    events = await tap("orders.dispatch.requested", "orders.order.failed")
    order = await _awaiting(orders, customer)
    await bank.wait_for(order["payment"]["id"])
    await bank.complete(order["payment"]["id"], "succeeded")
    requested = await events.next("orders.dispatch.requested")
    await orders.publish(
        DispatchRefused(dispatch_id=requested["dispatch_id"], order_id=order["id"], reason="x")
    )
    await events.next("orders.order.failed")
    refund = await bank.wait_refund(order["payment"]["id"])
    assert refund["amount"] == order["total"]["amount"]
    for _ in range(100):
        final = await orders.order(customer, order["id"])
        if final["payment"]["status"] == "refunded":
            break
        await asyncio.sleep(0.05)
    assert (final["status"], final["payment"]["status"]) == ("failed", "refunded")


async def test_a_paid_order_cancelled_by_the_customer_is_refunded(
    orders: Orders, bank: SandboxBank, tap: MakeTap, courier_tap: EventTap
) -> None:
    customer = uuid4()
    events = await tap("orders.dispatch.requested", "orders.order.cancelled", "orders.payment.#")
    order = await _awaiting(orders, customer)
    await bank.wait_for(order["payment"]["id"])
    assert await bank.complete(order["payment"]["id"], "succeeded") == 200
    requested = await events.next("orders.dispatch.requested")
    assert (await orders.order(customer, order["id"]))["status"] == "paid"

    status, body, _ = await orders.call(
        "POST", f"/api/orders/{order['id']}/cancel", headers=orders.auth(customer)
    )
    assert (status, body["status"]) == (200, "cancelled")
    assert (await events.next("orders.order.cancelled"))["order_id"] == order["id"]
    cancel = await courier_tap.next("courier.dispatch_cancelled")
    assert cancel == {
        "dispatch_id": requested["dispatch_id"],
        "order_ref": order["order_ref"],
        "courier": "sandbox",
    }
    pending = await events.next("orders.payment.refund_requested")
    assert (pending["payment_id"], pending["amount"]) == (order["payment"]["id"], order["total"])
    refund = await bank.wait_refund(order["payment"]["id"])
    assert refund["amount"] == order["total"]["amount"]
    assert (await events.next("orders.payment.refunded"))["payment_id"] == order["payment"]["id"]
    final = await orders.order(customer, order["id"])
    assert (final["status"], final["payment"]["status"]) == ("cancelled", "refunded")
    assert final["payment_url"] is None
    assert [(h["status"], h["cause"]) for h in final["history"]][-2:] == [
        ("paid", "payment_confirmed"),
        ("cancelled", "customer_cancelled"),
    ]
    # A release that raced the cancel re-sends the cancel; the order and refund stay put.
    await orders.release_dispatch(requested, order["id"])
    assert await courier_tap.next("courier.dispatch_cancelled") == cancel
    again = await orders.order(customer, order["id"])
    assert (again["status"], again["payment"]["status"]) == ("cancelled", "refunded")
    assert await events.types() == []


async def test_cancel_while_awaiting_payment_cancels_the_payment(
    orders: Orders, bank: SandboxBank
) -> None:
    customer = uuid4()
    order = await _awaiting(orders, customer)
    status, _, _ = await orders.call(
        "POST", f"/api/orders/{order['id']}/cancel", headers=orders.auth(customer)
    )
    assert status == 200
    final = await orders.order(customer, order["id"])
    assert (final["status"], final["payment"]["status"]) == ("cancelled", "cancelled")
    await bank.wait_for(order["payment"]["id"])
    assert await bank.complete(order["payment"]["id"], "declined") == 200  # harmless now
    assert (await orders.order(customer, order["id"]))["payment"]["status"] == "cancelled"


@pytest.mark.parametrize("orders_overrides", [{"courier_confirm_timeout_s": 1}])
async def test_unconfirmed_dispatch_is_raised_for_support(
    orders: Orders, tap: MakeTap, token_issuer: Any
) -> None:
    customer = uuid4()
    events = await tap("orders.dispatch.requested", "orders.order.needs_attention")
    placed = await orders.placed_order(customer)
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=100))
    requested = await events.next("orders.dispatch.requested")
    await orders.release_dispatch(requested, placed["id"])
    await orders.wait_status(customer, placed["id"], "dispatched")
    flagged = await events.next("orders.order.needs_attention")
    assert flagged == {
        "order_id": placed["id"],
        "order_ref": placed["order_ref"],
        "status": "dispatched",
        "reason": "courier_timeout",
    }
    order = await orders.order(customer, placed["id"])
    assert order["status"] == "dispatched" and order["needs_attention"] is True
    assert order["history"][-1] == {**order["history"][-1], "cause": "needs_attention"}

    support = {"Authorization": f"Bearer {token_issuer.issue(uuid4(), 'staff', {'support'})}"}
    status, listing, _ = await orders.call("GET", "/api/orders/attention", headers=support)
    assert status == 200
    assert [i["id"] for i in listing["items"]] == [placed["id"]]
    assert listing["items"][0]["dispatch_id"] == requested["dispatch_id"]
    analyst = {"Authorization": f"Bearer {token_issuer.issue(uuid4(), 'staff', {'analyst'})}"}
    for headers in (analyst, orders.auth(customer)):
        status, _, _ = await orders.call("GET", "/api/orders/attention", headers=headers)
        assert status == 403
    # Flagged once only.
    assert await events.types(wait_s=0.5) == []


@pytest.mark.parametrize(
    "orders_overrides",
    [{"checkout_limit_per_account_per_min": 2, "checkout_limit_per_network_per_min": 4}],
)
async def test_velocity_limits_refuse_bursts(orders: Orders) -> None:
    if time.time() % 60 > 50:  # the windows are calendar minutes: start in a fresh one
        await asyncio.sleep(61 - time.time() % 60)
    customer = uuid4()
    here = {"X-Forwarded-For": "198.51.100.7"}
    for _ in range(2):
        await orders.add_item(orders.catalog.add("Gauze", 1_000), 1, orders.auth(customer))
        status, _, _ = await orders.checkout(customer, extra_headers=here)
        assert status == 201
    await orders.add_item(orders.catalog.add("Gauze", 1_000), 1, orders.auth(customer))
    status, problem, response = await orders.checkout(customer, "third", extra_headers=here)
    assert status == 429
    assert response.content_type == "application/problem+json"
    assert problem["title"] == "Too many checkouts"
    assert 1 <= int(response.headers["Retry-After"]) <= 60
    # The same request again (same key) is refused too, but counts once: no drain on the
    # network's allowance below.
    assert (await orders.checkout(customer, "third", extra_headers=here))[0] == 429
    # Per network (refused attempts count too): a neighbour in the same /24 gets the fourth
    # attempt, then is refused as well.
    other = uuid4()
    neighbour = {"X-Forwarded-For": "198.51.100.200"}
    await orders.add_item(orders.catalog.add("Gauze", 1_000), 1, orders.auth(other))
    assert (await orders.checkout(other, extra_headers=neighbour))[0] == 201
    await orders.add_item(orders.catalog.add("Gauze", 1_000), 1, orders.auth(other))
    assert (await orders.checkout(other, extra_headers=neighbour))[0] == 429
    # ... while a customer from another network is fine.
    third = uuid4()
    await orders.add_item(orders.catalog.add("Gauze", 1_000), 1, orders.auth(third))
    assert (await orders.checkout(third, extra_headers={"X-Forwarded-For": "192.0.2.1"}))[0] == 201


async def test_velocity_counters_are_purged_after_a_few_minutes(orders: Orders) -> None:
    """Retention's velocity rules (velocity_retention_s, 5 minutes) delete past windows."""
    for n in range(2):
        customer = uuid4()
        await orders.add_item(orders.catalog.add("Gauze", 1_000), 1, orders.auth(customer))
        headers = {"X-Forwarded-For": f"198.51.100.{n}"}
        assert (await orders.checkout(customer, extra_headers=headers))[0] == 201
    conn = await asyncpg.connect(orders.dsn)
    pool = await create_pool(orders.dsn, min_size=1, max_size=2)
    try:
        # One customer's minute is long past; the other's is current.
        [old] = await conn.fetch("SELECT attempt FROM checkout_attempts LIMIT 1")
        await conn.execute(
            "UPDATE checkout_attempts SET window_start = window_start - interval '10 minutes'"
            " WHERE attempt = $1",
            old["attempt"],
        )
        await conn.execute(
            "UPDATE checkout_velocity SET window_start = window_start - interval '10 minutes'"
            " WHERE scope = 'account'"
        )
        for rule in retention.RULES:
            if rule.table in ("checkout_velocity", "checkout_attempts"):
                await run_one(pool, rule, orders.settings)
        left = await conn.fetch("SELECT scope, attempts FROM checkout_velocity")
        assert [(r["scope"], r["attempts"]) for r in left] == [("network", 2)]
        assert await conn.fetchval("SELECT count(*) FROM checkout_attempts") == 1
    finally:
        await pool.close()
        await conn.close()


async def test_ip_statistics_keep_the_network_and_city_only(
    orders: Orders, token_issuer: Any
) -> None:
    visits = [
        ({"X-Forwarded-For": "203.0.113.77", "X-Geo-City": "Алматы", "X-Geo-Region": "Алматы"}, 1),
        ({"X-Forwarded-For": "203.0.113.91", "X-Geo-City": "Алматы", "X-Geo-Region": "Алматы"}, 1),
        ({"X-Forwarded-For": "2001:db8:abcd:12:34::9"}, 1),
    ]
    for headers, _ in visits:
        customer = uuid4()
        await orders.add_item(orders.catalog.add("Plaster", 900), 1, orders.auth(customer))
        assert (await orders.checkout(customer, extra_headers=headers))[0] == 201
    analyst = {"Authorization": f"Bearer {token_issuer.issue(uuid4(), 'staff', {'analyst'})}"}
    status, stats, _ = await orders.call("GET", "/api/orders/stats/networks", headers=analyst)
    assert status == 200
    found = {(i["network"], i["city"], i["region"], i["checkouts"]) for i in stats["items"]}
    assert found == {
        ("203.0.113.0/24", "Алматы", "Алматы", 2),
        ("2001:db8:abcd::/48", None, None, 1),
    }
    assert set(stats["items"][0]) == {"day", "network", "city", "region", "checkouts"}
    support = {"Authorization": f"Bearer {token_issuer.issue(uuid4(), 'staff', {'support'})}"}
    assert (await orders.call("GET", "/api/orders/stats/networks", headers=support))[0] == 403

    conn = await asyncpg.connect(orders.dsn)
    try:
        rows = []
        for table in (
            "checkout_network_stats",
            "checkout_velocity",
            "checkout_attempts",
            "orders",
            "outbox",
        ):
            rows.extend(await conn.fetch(f"SELECT * FROM {table}"))
        dump = "\n".join(str(dict(row)) for row in rows)
        columns = {
            r["column_name"]
            for r in await conn.fetch(
                "SELECT column_name FROM information_schema.columns"
                " WHERE table_name = 'checkout_network_stats'"
            )
        }
    finally:
        await conn.close()
    for full in ("203.0.113.77", "203.0.113.91", "2001:db8:abcd:12"):
        assert full not in dump
    assert "customer_id" not in columns and "order_id" not in columns


@pytest.mark.parametrize("orders_overrides", [{"retention_interval_s": 0.1}])
async def test_retention_purges_old_and_empty_carts(orders: Orders) -> None:
    """The app's retention schedule (a short interval here) deletes an anonymous cart past
    cart_retention_s and an empty one past empty_cart_retention_s, and records the runs."""
    status, _, response = await orders.add_item(orders.catalog.add("Soap", 500), 1, {})
    assert status == 200
    old_cart = UUID(response.cookies["cart_id"].value)
    status, _, response = await orders.add_item(orders.catalog.add("Soap", 500), 1, {})
    empty_cart = UUID(response.cookies["cart_id"].value)
    fresh_cart = uuid4()
    conn = await asyncpg.connect(orders.dsn)
    try:
        await conn.execute("INSERT INTO carts (id) VALUES ($1)", fresh_cart)
        await conn.execute("DELETE FROM cart_items WHERE cart_id = $1", empty_cart)
        await conn.execute(
            "UPDATE carts SET updated_at = now() - interval '31 days' WHERE id = $1", old_cart
        )
        await conn.execute(
            "UPDATE carts SET updated_at = now() - interval '2 days' WHERE id = $1", empty_cart
        )
        for _ in range(200):  # until a scheduled run has taken both (no timing assumed)
            left = {r["id"] for r in await conn.fetch("SELECT id FROM carts")}
            if old_cart not in left and empty_cart not in left:
                break
            await asyncio.sleep(0.05)
        recorded = await conn.fetchval(
            "SELECT sum(count) FROM retention_runs WHERE kind IN ('anonymous_carts', 'empty_carts')"
        )
    finally:
        await conn.close()
    assert old_cart not in left and empty_cart not in left
    assert fresh_cart in left
    assert recorded == 2


@pytest.mark.parametrize("orders_overrides", [{"bank_secrets": {}}])
async def test_card_needs_a_configured_bank(orders: Orders) -> None:
    customer = uuid4()
    await orders.add_item(orders.catalog.add("Soap", 500), 1, orders.auth(customer))
    status, problem, _ = await orders.checkout(customer, method="card")
    assert (status, problem["title"]) == (422, "Card payment unavailable")


async def test_a_free_order_cannot_be_paid_by_card(orders: Orders) -> None:
    customer = uuid4()
    await orders.add_item(orders.catalog.add("Free sample", 0), 2, orders.auth(customer))
    status, problem, _ = await orders.checkout(customer, method="card")
    assert (status, problem["title"]) == (422, "Nothing to pay by card")
    assert (await orders.call("GET", "/api/orders", headers=orders.auth(customer)))[1][
        "items"
    ] == []
    # The cart is untouched: the same order goes through as cash on delivery.
    status, order, _ = await orders.checkout(customer)
    assert status == 201 and order["status"] == "placed"


@pytest.mark.parametrize("orders_overrides", [{"trusted_proxies": ()}])
async def test_a_forged_forwarded_for_from_an_untrusted_peer_is_ignored(
    orders: Orders, token_issuer: Any
) -> None:
    # Here the test client (on loopback) is not a trusted proxy: its header counts for nothing.
    customer = uuid4()
    await orders.add_item(orders.catalog.add("Plaster", 900), 1, orders.auth(customer))
    forged = {"X-Forwarded-For": "203.0.113.77", "X-Real-IP": "203.0.113.77"}
    assert (await orders.checkout(customer, extra_headers=forged))[0] == 201
    analyst = {"Authorization": f"Bearer {token_issuer.issue(uuid4(), 'staff', {'analyst'})}"}
    status, stats, _ = await orders.call("GET", "/api/orders/stats/networks", headers=analyst)
    assert status == 200
    assert [i["network"] for i in stats["items"]] == ["127.0.0.0/24"]
