"""Orders learns blocking by event (CustomerBlocked / CustomerUnblocked through the real
broker) and refuses a new checkout of a blocked customer with a 409 problem; redelivered and
out-of-order events end in the newest state; orders already placed go on."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from services.orders.handlers.checkout import CUSTOMER_BLOCKED_TYPE
from shared.contracts import CustomerBlockChanged, CustomerBlocked, CustomerUnblocked, StockReserved
from tests.orders.conftest import EventTap, Orders
from tests.shared.messaging_helpers import handled

MakeTap = Callable[..., Awaitable[EventTap]]


def blocked(customer: UUID, version: int) -> CustomerBlocked:
    return CustomerBlocked(customer_id=customer, version=version, at=datetime.now(UTC))


def unblocked(customer: UUID, version: int) -> CustomerUnblocked:
    return CustomerUnblocked(customer_id=customer, version=version, at=datetime.now(UTC))


async def block_row(orders: Orders, customer: UUID) -> tuple[bool, int] | None:
    conn = await asyncpg.connect(orders.dsn)
    try:
        row = await conn.fetchrow(
            "SELECT blocked, version FROM customer_blocks WHERE customer_id = $1", customer
        )
    finally:
        await conn.close()
    return (row["blocked"], row["version"]) if row else None


async def learned(orders: Orders, event: CustomerBlockChanged, expect: tuple[bool, int]) -> None:
    """Publish ``event`` and wait until the consumer has handled it (its inbox row)."""
    await handled(orders.dsn, await orders.publish(event))
    assert await block_row(orders, event.customer_id) == expect


async def test_a_blocked_customer_cannot_check_out_until_unblocked(orders: Orders) -> None:
    customer = uuid4()
    product = orders.catalog.add("Ибупрофен", 90_000)
    status, _, _ = await orders.add_item(product, 1, orders.auth(customer))
    assert status == 200
    await learned(orders, blocked(customer, 1), (True, 1))

    status, problem, response = await orders.checkout(customer)
    assert status == 409, problem
    assert response.content_type == "application/problem+json"
    assert problem["type"] == CUSTOMER_BLOCKED_TYPE == "https://shop.kz/problems/customer-blocked"
    assert problem["title"] == "Processing blocked"
    assert "DELETE /api/customers/me/block" in problem["detail"]
    status, page, _ = await orders.call("GET", "/api/orders", headers=orders.auth(customer))
    assert status == 200 and page["items"] == []  # nothing placed, nothing silently cancelled
    status, cart, _ = await orders.call("GET", "/api/orders/cart", headers=orders.auth(customer))
    assert [item["quantity"] for item in cart["items"]] == [1]  # the cart is kept

    await learned(orders, unblocked(customer, 2), (False, 2))
    status, placed, _ = await orders.checkout(customer)
    assert status == 201, placed


async def test_events_out_of_order_or_twice_end_in_the_newest_state(orders: Orders) -> None:
    customer = uuid4()
    # The unblock (version 2) overtakes the block (version 1): the customer stays unblocked.
    await learned(orders, unblocked(customer, 2), (False, 2))
    await learned(orders, blocked(customer, 1), (False, 2))
    await orders.placed_order(customer)
    # A block redelivered under another message id is applied once; an older unblock after
    # it changes nothing.
    again = blocked(customer, 3)
    await learned(orders, again, (True, 3))
    await learned(orders, again, (True, 3))
    await learned(orders, unblocked(customer, 2), (True, 3))
    status, problem, _ = await orders.checkout(customer)
    assert status == 409 and problem["type"] == CUSTOMER_BLOCKED_TYPE
    # Another customer is not touched.
    assert (await orders.placed_order(uuid4()))["status"] == "placed"


async def test_orders_placed_before_the_block_go_on(orders: Orders, tap: MakeTap) -> None:
    """The replay of a checkout made before the block answers with its order, and the
    order's dispatch request says when it was placed (customers tells an open obligation by
    it and releases the delivery)."""
    customer = uuid4()
    events = await tap("orders.dispatch.requested")
    product = orders.catalog.add("Витамин D", 120_000)
    await orders.add_item(product, 1, orders.auth(customer))
    status, placed, _ = await orders.checkout(customer, key="before-the-block")
    assert status == 201
    await learned(orders, blocked(customer, 1), (True, 1))

    status, replay, _ = await orders.checkout(customer, key="before-the-block")
    assert status == 200 and replay["id"] == placed["id"]
    await orders.publish(StockReserved(order_id=UUID(placed["id"]), weight_g=200))
    requested = await events.next("orders.dispatch.requested")
    order = await orders.order(customer, placed["id"])
    assert datetime.fromisoformat(requested["placed_at"]) == datetime.fromisoformat(
        order["created_at"]
    )
