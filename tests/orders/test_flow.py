"""The event flow through the real broker: stock, dispatch, courier callbacks, cancellation."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from shared.contracts import DispatchRefused, DispatchReleased, StockRejected, StockReserved
from shared.signing import signed_headers
from tests.orders.conftest import COURIER_SECRET, EventTap, Orders

MakeTap = Callable[..., Awaitable[EventTap]]
CALLBACK = "/api/fulfilment/sandbox/callbacks"


async def _callback(
    orders: Orders,
    body: dict[str, Any],
    *,
    secret: str = COURIER_SECRET,
    now: float | None = None,
    path: str = CALLBACK,
) -> tuple[int, Any]:
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **signed_headers(secret, raw, now=now)}
    async with orders.http.post(orders.url + path, data=raw, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def _dispatched(orders: Orders, customer: UUID, tap: MakeTap) -> tuple[dict[str, Any], str]:
    """A cash-on-delivery order taken to ``dispatched``; returns (order, dispatch_id)."""
    events = await tap("orders.dispatch.requested")
    placed = await orders.placed_order(customer)
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=600))
    requested = await events.next("orders.dispatch.requested")
    await orders.release_dispatch(requested, placed["id"])
    order = await orders.wait_status(customer, placed["id"], "dispatched")
    return order, requested["dispatch_id"]


async def test_cash_on_delivery_goes_from_placed_to_delivered(orders: Orders, tap: MakeTap) -> None:
    customer = uuid4()
    events = await tap("orders.#")
    placed = await orders.placed_order(customer, quantity=3)
    announced = await events.next("orders.order.placed")
    assert announced["order_id"] == placed["id"]
    assert announced["customer_id"] == str(customer)
    assert announced["total"] == {"amount": 450_000, "currency": "KZT"}
    # When it was placed: a block after it leaves this order's mail owed.
    placed_at = datetime.fromisoformat(announced["placed_at"])
    order = await orders.order(customer, placed["id"])
    assert placed_at == datetime.fromisoformat(order["created_at"])

    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=900))
    requested = await events.next("orders.dispatch.requested")
    assert set(requested) == {
        "dispatch_id", "order_id", "order_ref", "customer_id", "courier", "parcel",
        "cash_on_delivery", "placed_at",
    }  # fmt: skip
    assert requested["order_id"] == placed["id"]
    assert requested["order_ref"] == placed["order_ref"]
    assert requested["courier"] == "sandbox"
    assert requested["parcel"] == {"count": 3, "weight_g": 900}
    assert requested["cash_on_delivery"] == {"amount": 450_000, "currency": "KZT"}
    assert (await orders.order(customer, placed["id"]))["status"] == "placed"

    await orders.release_dispatch(requested, placed["id"])
    dispatched = await events.next("orders.order.dispatched")
    assert dispatched["status"] == "dispatched"
    assert dispatched["order_ref"] == placed["order_ref"]
    await orders.wait_status(customer, placed["id"], "dispatched")

    body = {
        "event_id": str(uuid4()),
        "dispatch_id": requested["dispatch_id"],
        "status": "delivered",
    }
    assert await _callback(orders, body) == (200, {"result": "applied"})
    delivered = await events.next("orders.order.delivered")
    assert delivered["status"] == "delivered"
    order = await orders.order(customer, placed["id"])
    assert [(h["status"], h["cause"]) for h in order["history"]] == [
        ("placed", "checkout"),
        ("dispatched", "dispatch_released"),
        ("delivered", "courier_delivered"),
    ]

    # A replay of the same courier event changes nothing and announces nothing.
    assert await _callback(orders, body) == (200, {"result": "duplicate"})
    assert (await orders.order(customer, placed["id"]))["history"] == order["history"]
    assert "orders.order.delivered" not in await events.types()


async def test_courier_callbacks_must_be_signed_and_fresh(orders: Orders, tap: MakeTap) -> None:
    customer = uuid4()
    order, dispatch_id = await _dispatched(orders, customer, tap)
    body = {"event_id": str(uuid4()), "dispatch_id": dispatch_id, "status": "delivered"}

    status, problem = await _callback(orders, body, secret="forged")
    assert (status, problem["title"]) == (401, "Bad signature")
    status, _ = await _callback(orders, body, now=time.time() - 3600)
    assert status == 401
    async with orders.http.post(orders.url + CALLBACK, json=body) as response:
        assert response.status == 401
        assert response.content_type == "application/problem+json"
    # Signed over another body: the signature does not match what arrives.
    raw = json.dumps(body).encode()
    headers = {"Content-Type": "application/json", **signed_headers(COURIER_SECRET, b"{}")}
    async with orders.http.post(orders.url + CALLBACK, data=raw, headers=headers) as response:
        assert response.status == 401

    status, _ = await _callback(orders, body, path="/api/fulfilment/pigeon/callbacks")
    assert status == 404
    status, _ = await _callback(orders, {**body, "dispatch_id": str(uuid4())})
    assert status == 404
    status, _ = await _callback(orders, {**body, "recipient": "x"})
    assert status == 422
    assert (await orders.order(customer, order["id"]))["status"] == "dispatched"

    failed = {**body, "status": "failed"}
    assert await _callback(orders, failed) == (200, {"result": "applied"})
    assert (await orders.order(customer, order["id"]))["status"] == "failed"
    # A later "delivered" from the courier no longer fits: a conflict, not a silent change.
    status, _ = await _callback(orders, {**body, "event_id": str(uuid4())})
    assert status == 409


async def test_card_order_waits_for_payment(orders: Orders, tap: MakeTap) -> None:
    customer = uuid4()
    events = await tap("orders.dispatch.requested")
    placed = await orders.placed_order(customer, method="card")
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=100))
    order = await orders.wait_status(customer, placed["id"], "awaiting_payment")
    assert order["history"][-1]["cause"] == "stock_reserved"
    assert await events.types() == []


async def test_rejected_stock_cancels_the_order(orders: Orders, tap: MakeTap) -> None:
    customer = uuid4()
    events = await tap("orders.order.cancelled", "orders.dispatch.requested")
    placed = await orders.placed_order(customer)
    await orders.publish(
        StockRejected(order_id=UUID(placed["id"]), reason="out of stock", product_ids=())
    )
    cancelled = await events.next("orders.order.cancelled")
    assert cancelled["order_id"] == placed["id"] and cancelled["status"] == "cancelled"
    await orders.wait_status(customer, placed["id"], "cancelled")

    # A late reservation for a cancelled order is ignored: no dispatch is asked for.
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=1))
    assert await events.types(wait_s=1.0) == []
    assert (await orders.order(customer, placed["id"]))["status"] == "cancelled"


async def test_refused_dispatch_fails_the_order(orders: Orders, tap: MakeTap) -> None:
    customer = uuid4()
    events = await tap("orders.dispatch.requested", "orders.order.failed")
    placed = await orders.placed_order(customer)
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=100))
    requested = await events.next("orders.dispatch.requested")
    await orders.publish(
        DispatchRefused(
            dispatch_id=requested["dispatch_id"], order_id=placed["id"], reason="blocked"
        )
    )
    failed = await events.next("orders.order.failed")
    assert failed["status"] == "failed"
    await orders.wait_status(customer, placed["id"], "failed")


async def test_event_for_an_unknown_order_is_parked(orders: Orders) -> None:
    stray = uuid4()
    await orders.publish(StockReserved(order_id=stray, weight_g=1))
    channel = await orders.amqp.channel()
    try:
        dead = await channel.declare_queue(
            "orders.events.dead", durable=True, arguments={"x-queue-type": "quorum"}
        )
        for _ in range(200):
            # Unacked messages stay with this channel (and go back when it closes).
            message = await dead.get(no_ack=False, fail=False)
            if message is None:
                await asyncio.sleep(0.05)
            elif json.loads(message.body).get("order_id") == str(stray):
                assert "refused" in str((message.headers or {}).get("x-shop-error"))
                await message.ack()
                return
    finally:
        await channel.close()
    raise AssertionError("the stray event was not parked")


async def test_customer_cancels_before_dispatch_only(orders: Orders, tap: MakeTap) -> None:
    customer = uuid4()
    events = await tap("orders.order.cancelled")
    placed = await orders.placed_order(customer, method="card")
    path = f"/api/orders/{placed['id']}/cancel"
    status, body, _ = await orders.call("POST", path, headers=orders.auth(customer))
    assert (status, body["status"]) == (200, "cancelled")
    assert (await events.next("orders.order.cancelled"))["order_id"] == placed["id"]
    status, _, _ = await orders.call("POST", path, headers=orders.auth(customer))
    assert status == 200  # cancelling twice is harmless
    assert await events.types() == []

    other = uuid4()
    order, _ = await _dispatched(orders, other, tap)
    status, problem, _ = await orders.call(
        "POST", f"/api/orders/{order['id']}/cancel", headers=orders.auth(other)
    )
    assert (status, problem["title"]) == (409, "Too late to cancel")


CANCEL_FIELDS = {"dispatch_id", "order_ref", "courier"}


async def test_cancel_after_the_dispatch_is_requested_tells_the_courier(
    orders: Orders, tap: MakeTap, courier_tap: EventTap
) -> None:
    """Cash on delivery, stock reserved, dispatch requested: the customer may still cancel.
    The courier gets ``DispatchCancelled`` (ids only); a release that raced the cancel sends
    it once more; the courier can no longer confirm the delivery."""
    customer = uuid4()
    events = await tap("orders.dispatch.requested", "orders.order.#")
    placed = await orders.placed_order(customer)
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=100))
    requested = await events.next("orders.dispatch.requested")
    status, body, _ = await orders.call(
        "POST", f"/api/orders/{placed['id']}/cancel", headers=orders.auth(customer)
    )
    assert (status, body["status"]) == (200, "cancelled")
    cancelled = await events.next("orders.order.cancelled")
    assert cancelled["order_id"] == placed["id"]  # catalog returns the stock on this

    cancel = await courier_tap.next("courier.dispatch_cancelled")
    assert set(cancel) == CANCEL_FIELDS
    assert cancel == {
        "dispatch_id": requested["dispatch_id"],
        "order_ref": placed["order_ref"],
        "courier": "sandbox",
    }
    assert str(customer) not in json.dumps(cancel)
    order = await orders.order(customer, placed["id"])
    assert [(h["status"], h["cause"]) for h in order["history"]] == [
        ("placed", "checkout"),
        ("cancelled", "customer_cancelled"),
    ]
    conn = await asyncpg.connect(orders.dsn)
    try:
        dispatch = await conn.fetchrow(
            "SELECT status, cancelled_at, release_id FROM dispatches WHERE id = $1",
            UUID(requested["dispatch_id"]),
        )
    finally:
        await conn.close()
    assert dispatch is not None
    assert dispatch["status"] == "cancelled" and dispatch["cancelled_at"] is not None
    assert dispatch["release_id"] is None

    # The release raced the cancel: the courier is told again, and the order stays cancelled.
    release = DispatchReleased(
        dispatch_id=requested["dispatch_id"],
        order_id=placed["id"],
        release_id=uuid4(),
        courier="sandbox",
    )
    await orders.publish(release)
    again = await courier_tap.next("courier.dispatch_cancelled")
    assert again == cancel
    # Another release of the same dispatch (a new message): no third cancel.
    await orders.publish(release.model_copy(update={"release_id": uuid4()}))
    assert await courier_tap.types(wait_s=1.0) == []
    assert await events.types() == []
    order = await orders.order(customer, placed["id"])
    assert order["status"] == "cancelled" and len(order["history"]) == 2

    # The courier must not deliver it: a delivered (or failed) callback is a conflict.
    callback = {"event_id": str(uuid4()), "dispatch_id": requested["dispatch_id"]}
    for outcome in ("delivered", "failed"):
        status, problem = await _callback(orders, {**callback, "status": outcome})
        assert (status, problem["title"]) == (409, "Dispatch cancelled")
    assert (await orders.order(customer, placed["id"]))["status"] == "cancelled"
    # Cancelling again is harmless and sends nothing more.
    status, _, _ = await orders.call(
        "POST", f"/api/orders/{placed['id']}/cancel", headers=orders.auth(customer)
    )
    assert status == 200
    assert await courier_tap.types(wait_s=0.3) == []


async def test_a_cancel_before_any_dispatch_sends_the_courier_nothing(
    orders: Orders, courier_tap: EventTap
) -> None:
    customer = uuid4()
    placed = await orders.placed_order(customer)
    status, _, _ = await orders.call(
        "POST", f"/api/orders/{placed['id']}/cancel", headers=orders.auth(customer)
    )
    assert status == 200
    # A late reservation does not ask for a dispatch, so nothing is ever sent to the courier.
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=1))
    assert await courier_tap.types(wait_s=1.0) == []


async def test_no_cancel_once_dispatched(
    orders: Orders, tap: MakeTap, courier_tap: EventTap
) -> None:
    customer = uuid4()
    order, dispatch_id = await _dispatched(orders, customer, tap)
    status, problem, _ = await orders.call(
        "POST", f"/api/orders/{order['id']}/cancel", headers=orders.auth(customer)
    )
    assert (status, problem["title"]) == (409, "Too late to cancel")
    assert await courier_tap.types(wait_s=0.5) == []
    body = {"event_id": str(uuid4()), "dispatch_id": dispatch_id, "status": "delivered"}
    assert await _callback(orders, body) == (200, {"result": "applied"})
    status, _, _ = await orders.call(
        "POST", f"/api/orders/{order['id']}/cancel", headers=orders.auth(customer)
    )
    assert status == 409


async def test_orders_are_private_to_their_customer(orders: Orders) -> None:
    owner, stranger = uuid4(), uuid4()
    placed = await orders.placed_order(owner)
    for method, path in (
        ("GET", f"/api/orders/{placed['id']}"),
        ("POST", f"/api/orders/{placed['id']}/cancel"),
    ):
        status, _, response = await orders.call(method, path, headers=orders.auth(stranger))
        assert status == 404
        assert response.content_type == "application/problem+json"
    _, listing, _ = await orders.call("GET", "/api/orders", headers=orders.auth(stranger))
    assert listing == {"items": [], "next_cursor": None}
    status, _, _ = await orders.call("GET", f"/api/orders/{placed['id']}")
    assert status == 401
    assert (await orders.order(owner, placed["id"]))["status"] == "placed"


async def test_listing_pages_newest_first(orders: Orders) -> None:
    customer = uuid4()
    ids = [(await orders.placed_order(customer))["id"] for _ in range(3)]
    _, first, _ = await orders.call("GET", "/api/orders?limit=2", headers=orders.auth(customer))
    assert [o["id"] for o in first["items"]] == ids[::-1][:2]
    assert first["next_cursor"]
    _, second, _ = await orders.call(
        "GET", f"/api/orders?limit=2&cursor={first['next_cursor']}", headers=orders.auth(customer)
    )
    assert [o["id"] for o in second["items"]] == [ids[0]]
    assert second["next_cursor"] is None
    for query in ("limit=0", "limit=abc", "cursor=garbage"):
        status, _, response = await orders.call(
            "GET", f"/api/orders?{query}", headers=orders.auth(customer)
        )
        assert status == 422, query
        assert response.content_type == "application/problem+json"
    _, problem, _ = await orders.call(
        "GET", "/api/orders?cursor=garbage", headers=orders.auth(customer)
    )
    assert problem["title"] == "Invalid cursor"


async def test_internal_export_of_a_customer(orders: Orders) -> None:
    customer, other = uuid4(), uuid4()
    placed = await orders.placed_order(customer)
    theirs = await orders.placed_order(other)
    in_cart = orders.catalog.add("Zinc 25 mg", 90_000)
    status, _, _ = await orders.add_item(in_cart, 3, orders.auth(customer))
    assert status == 200
    status, _, _ = await orders.add_item(orders.catalog.add("Iron", 1_000), 1, orders.auth(other))
    assert status == 200
    path = f"/internal/customers/{customer}/export"
    status, _, _ = await orders.call("GET", path)
    assert status == 403
    status, _, _ = await orders.call("GET", path, headers={"X-Internal-Token": "wrong"})
    assert status == 403
    status, export, _ = await orders.call(
        "GET", path, headers={"X-Internal-Token": orders.settings.internal_token.get_secret_value()}
    )
    assert status == 200
    assert [o["id"] for o in export["orders"]] == [placed["id"]]
    order = await orders.order(customer, placed["id"])
    assert export["orders"][0] == {**order, "dispatch": None}
    assert [h["status"] for h in export["orders"][0]["history"]] == ["placed"]
    assert [(i["name"], i["quantity"]) for i in export["orders"][0]["items"]] == [("Vitamin C", 2)]
    [line] = export["cart"]
    assert (line["product_id"], line["name"], line["quantity"]) == (str(in_cart), "Zinc 25 mg", 3)
    assert theirs["id"] not in str(export) and "Iron" not in str(export)


async def test_orders_hold_no_personal_data(orders: Orders) -> None:
    """Orders' schema has a customer_id and nothing naming, reaching or locating a person."""
    conn = await asyncpg.connect(orders.dsn)
    try:
        columns = {
            row["column_name"]
            for row in await conn.fetch(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = 'public'"
            )
        }
    finally:
        await conn.close()
    forbidden = {"first_name", "last_name", "patronymic", "phone", "email", "address", "city"}
    assert not columns & forbidden
