"""Erasure in orders: the obligations that defer it, and the depersonalisation on
``customers.customer.erased`` (real PostgreSQL and RabbitMQ, the orders app)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from uuid import UUID, uuid4

import asyncpg

from services.orders.data_map import DATA_MAP
from services.orders.erasure import STEPS
from shared.contracts import CustomerErased
from shared.data_map import Erasure
from tests.orders.conftest import INTERNAL_TOKEN, EventTap, Orders

MakeTap = Callable[..., Awaitable[EventTap]]


async def obligations(orders: Orders, customer: UUID, token: str = INTERNAL_TOKEN):
    path = f"/internal/customers/{customer}/obligations"
    return await orders.call("GET", path, headers={"X-Internal-Token": token})


async def test_an_order_in_delivery_is_an_open_obligation_until_it_ends(orders: Orders) -> None:
    customer = uuid4()
    assert (await obligations(orders, customer))[:2] == (200, {"open": []})
    placed = await orders.placed_order(customer)
    status, body, _ = await obligations(orders, customer)
    assert status == 200
    assert body == {
        "open": [{"kind": "order", "order_ref": placed["order_ref"], "status": "placed"}]
    }
    status, _, _ = await orders.call(
        "POST", f"/api/orders/{placed['id']}/cancel", headers=orders.auth(customer)
    )
    assert status == 200
    assert (await obligations(orders, customer))[:2] == (200, {"open": []})


async def test_an_open_refund_is_an_obligation(orders: Orders) -> None:
    customer = uuid4()
    placed = await orders.placed_order(customer, method="card")
    conn = await asyncpg.connect(orders.dsn)
    try:  # a paid card order cancelled, the bank's refund not confirmed yet
        await conn.execute(
            "UPDATE orders SET status = 'cancelled' WHERE id = $1", UUID(placed["id"])
        )
        await conn.execute(
            "INSERT INTO payments (id, order_id, bank, amount, status, expires_at)"
            " VALUES ($1, $2, 'sandbox', 100, 'refund_requested', now())",
            uuid4(),
            UUID(placed["id"]),
        )
    finally:
        await conn.close()
    _, body, _ = await obligations(orders, customer)
    assert body == {
        "open": [{"kind": "refund", "order_ref": placed["order_ref"], "status": "cancelled"}]
    }


async def test_obligations_need_the_internal_token(orders: Orders) -> None:
    status, _, response = await obligations(orders, uuid4(), token="wrong")
    assert status in (401, 403)
    assert response.content_type == "application/problem+json"


async def rows_naming(dsn: str, customer: UUID) -> dict[str, int]:
    """Per table, the rows whose text holds the customer id (outbox bodies decoded too)."""
    conn = await asyncpg.connect(dsn)
    try:
        found: dict[str, int] = {}
        for table in await conn.fetch(
            "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
        ):
            name = table["tablename"]
            count = await conn.fetchval(
                f'SELECT count(*) FROM "{name}" t WHERE t::text LIKE $1',
                f"%{customer}%",
            )
            if count:
                found[name] = count
        bodies = await conn.fetchval(
            "SELECT count(*) FROM outbox WHERE position($1::bytea IN body) > 0",
            str(customer).encode(),
        )
        if bodies:
            found["outbox.body"] = bodies
        return found
    finally:
        await conn.close()


async def outbox_sent(dsn: str) -> None:
    """Wait until the relay has published everything written so far."""
    conn = await asyncpg.connect(dsn)
    try:
        for _ in range(200):
            if not await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL"):
                return
            await asyncio.sleep(0.05)
        raise AssertionError("the outbox was not published")
    finally:
        await conn.close()


async def test_erased_customer_orders_are_unlinked_carts_deleted_and_confirmed(
    orders: Orders, tap: MakeTap
) -> None:
    customer, other = uuid4(), uuid4()
    placed = await orders.placed_order(customer, quantity=3)
    await orders.call("POST", f"/api/orders/{placed['id']}/cancel", headers=orders.auth(customer))
    kept = await orders.placed_order(other)
    product = orders.catalog.add("Zinc", 90_000)
    await orders.add_item(product, 1, orders.auth(customer))  # a cart with a line
    await outbox_sent(orders.dsn)
    before = await rows_naming(orders.dsn, customer)
    assert {"orders", "carts", "checkout_requests", "outbox.body"} <= set(before), before

    confirmations = await tap("orders.customer.depersonalised")
    request_id = uuid4()
    erased = CustomerErased(
        customer_id=customer, request_id=request_id, erased_at=datetime.now(UTC)
    )
    await orders.publish(erased)
    confirmed = await confirmations.next("orders.customer.depersonalised")
    assert confirmed == {"request_id": str(request_id), "orders_unlinked": 1, "carts_deleted": 1}
    assert str(customer) not in str(confirmed)

    # The id is gone from every table; the order stays for accounting, unlinked.
    await outbox_sent(orders.dsn)
    assert await rows_naming(orders.dsn, customer) == {}
    conn = await asyncpg.connect(orders.dsn)
    try:
        row = await conn.fetchrow(
            "SELECT customer_id, status, total_amount,"
            " (SELECT count(*) FROM order_lines l WHERE l.order_id = o.id) AS lines,"
            " (SELECT count(*) FROM order_status_history h WHERE h.order_id = o.id) AS history"
            " FROM orders o WHERE id = $1",
            UUID(placed["id"]),
        )
        other_row = await conn.fetchrow(
            "SELECT customer_id FROM orders WHERE id = $1", UUID(kept["id"])
        )
    finally:
        await conn.close()
    assert row["customer_id"] is None and row["status"] == "cancelled"
    assert row["total_amount"] == 450_000 and row["lines"] == 1 and row["history"] == 2
    assert other_row["customer_id"] == other  # nobody else is touched
    status, page, _ = await orders.call("GET", "/api/orders", headers=orders.auth(customer))
    assert status == 200 and page["items"] == []

    # Delivered again (another message id): nothing more to unlink, the same state.
    await orders.publish(erased)
    again = await confirmations.next("orders.customer.depersonalised")
    assert again == {"request_id": str(request_id), "orders_unlinked": 0, "carts_deleted": 0}
    assert await rows_naming(orders.dsn, customer) == {}


def test_every_table_the_data_map_erases_has_a_step() -> None:
    changed = {
        h.table
        for h in DATA_MAP.holdings
        if h.erasure in (Erasure.DELETE, Erasure.DEPERSONALISE, Erasure.SHRED) and h.via is None
    }
    steps = {table for table, _ in STEPS}
    assert changed <= steps, f"no erasure step for {sorted(changed - steps)}"
    assert steps <= set(DATA_MAP.tables())


async def test_an_order_still_open_makes_orders_wait(orders: Orders, tap: MakeTap) -> None:
    """An order placed in the instant before the erasure: nothing is unlinked while it is
    open, and the erasure announced again after it ended is applied."""
    customer = uuid4()
    placed = await orders.placed_order(customer)
    confirmations = await tap("orders.customer.depersonalised")
    erased = CustomerErased(customer_id=customer, request_id=uuid4(), erased_at=datetime.now(UTC))
    await orders.publish(erased)
    assert await confirmations.types(wait_s=1.0) == []
    conn = await asyncpg.connect(orders.dsn)
    try:
        linked = await conn.fetchval(
            "SELECT customer_id FROM orders WHERE id = $1", UUID(placed["id"])
        )
    finally:
        await conn.close()
    assert linked == customer
    status, _, _ = await orders.call(
        "POST", f"/api/orders/{placed['id']}/cancel", headers=orders.auth(customer)
    )
    assert status == 200
    await outbox_sent(orders.dsn)
    await orders.publish(erased)  # customers announces it again while unconfirmed
    confirmed = await confirmations.next("orders.customer.depersonalised")
    assert confirmed["orders_unlinked"] == 1
    assert await rows_naming(orders.dsn, customer) == {}
