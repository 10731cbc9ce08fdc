"""Stock reservations: all lines or none, no oversell under concurrency, release exactly once."""

from __future__ import annotations

import asyncio
import json
from uuid import UUID, uuid4

import aio_pika
import asyncpg

from services.catalog.messages import (
    on_order_delivered,
    on_order_placed,
    on_order_undelivered,
)
from shared.contracts import (
    Contract,
    Money,
    OrderCancelled,
    OrderDelivered,
    OrderFailed,
    OrderStatusChanged,
    StockRejected,
    StockReleased,
    StockReserved,
)
from tests.catalog.conftest import Catalog, meta_for, order_placed
from tests.shared.messaging_helpers import collecting, publish_event


async def handle(pool: asyncpg.Pool, handler, event: Contract) -> None:
    """Run a handler as the consumer does: in one transaction on a connection of its own."""
    async with pool.acquire() as conn, conn.transaction():
        await handler(conn, event, meta_for(event))


def status_event(kind: type[OrderStatusChanged], order_id: UUID) -> Contract:
    return kind(
        order_id=order_id,
        order_ref="R-1",
        customer_id=uuid4(),
        status=kind.MESSAGE_TYPE.rsplit(".", 1)[1],
        total=Money(amount=100),
    )


async def outbox(pool: asyncpg.Pool) -> list[tuple[str, dict]]:
    """The reservation events enqueued (low-stock alerts: tests/catalog/test_stock_alerts)."""
    rows = await pool.fetch(
        "SELECT message_type, body FROM outbox"
        " WHERE message_type LIKE 'catalog.reservation.%' ORDER BY id"
    )
    return [(r["message_type"], json.loads(r["body"])) for r in rows]


async def reservation_status(pool: asyncpg.Pool, order_id: UUID) -> str | None:
    return await pool.fetchval("SELECT status FROM reservations WHERE order_id = $1", order_id)


async def test_reserves_all_lines_and_announces_the_parcel_weight(catalog: Catalog):
    a = await catalog.add_product("A", stock=5, weight_g=120)
    b = await catalog.add_product("B", stock=2, weight_g=30)
    event = order_placed((a, 2), (b, 2), (a, 1))  # a product may come in several lines
    await handle(catalog.pool, on_order_placed, event)
    assert (await catalog.stock(a), await catalog.stock(b)) == (2, 0)
    assert await reservation_status(catalog.pool, event.order_id) == "reserved"
    lines = await catalog.pool.fetch(
        "SELECT product_id, quantity FROM reservation_lines WHERE order_id = $1", event.order_id
    )
    assert {(r["product_id"], r["quantity"]) for r in lines} == {(a, 3), (b, 2)}
    assert await outbox(catalog.pool) == [
        (StockReserved.MESSAGE_TYPE, {"order_id": str(event.order_id), "weight_g": 420})
    ]


async def test_one_short_line_reserves_nothing(catalog: Catalog):
    a = await catalog.add_product("A", stock=5)
    b = await catalog.add_product("B", stock=1)
    event = order_placed((a, 2), (b, 2))
    await handle(catalog.pool, on_order_placed, event)
    assert (await catalog.stock(a), await catalog.stock(b)) == (5, 1)
    assert await reservation_status(catalog.pool, event.order_id) == "rejected"
    assert await outbox(catalog.pool) == [
        (
            StockRejected.MESSAGE_TYPE,
            {
                "order_id": str(event.order_id),
                "reason": "insufficient_stock",
                "product_ids": [str(b)],
            },
        )
    ]


async def test_unknown_product_reserves_nothing(catalog: Catalog):
    a = await catalog.add_product("A", stock=5)
    ghost = uuid4()
    event = order_placed((a, 1), (ghost, 1))
    await handle(catalog.pool, on_order_placed, event)
    assert await catalog.stock(a) == 5
    [(kind, body)] = await outbox(catalog.pool)
    assert kind == StockRejected.MESSAGE_TYPE
    assert (body["reason"], body["product_ids"]) == ("unknown_product", [str(ghost)])


async def test_a_second_order_placed_for_the_same_order_does_nothing(catalog: Catalog):
    a = await catalog.add_product("A", stock=5)
    event = order_placed((a, 2))
    # Two deliveries with different message ids (the inbox cannot dedupe them), at once.
    await asyncio.gather(*(handle(catalog.pool, on_order_placed, event) for _ in range(2)))
    await handle(catalog.pool, on_order_placed, event)
    assert await catalog.stock(a) == 3
    assert [kind for kind, _ in await outbox(catalog.pool)] == [StockReserved.MESSAGE_TYPE]


async def test_cancellation_returns_stock_exactly_once(catalog: Catalog):
    a = await catalog.add_product("A", stock=5)
    b = await catalog.add_product("B", stock=5)
    event = order_placed((a, 2), (b, 5))
    await handle(catalog.pool, on_order_placed, event)
    assert (await catalog.stock(a), await catalog.stock(b)) == (3, 0)
    cancelled = status_event(OrderCancelled, event.order_id)
    await asyncio.gather(*(handle(catalog.pool, on_order_undelivered, cancelled) for _ in range(3)))
    await handle(catalog.pool, on_order_undelivered, cancelled)
    assert (await catalog.stock(a), await catalog.stock(b)) == (5, 5)
    assert await reservation_status(catalog.pool, event.order_id) == "released"
    kinds = [kind for kind, _ in await outbox(catalog.pool)]
    assert kinds == [StockReserved.MESSAGE_TYPE, StockReleased.MESSAGE_TYPE]
    # A delivery after the cancellation changes nothing.
    await handle(catalog.pool, on_order_delivered, status_event(OrderDelivered, event.order_id))
    assert await reservation_status(catalog.pool, event.order_id) == "released"


async def test_a_failed_order_returns_its_parcel_to_stock_once(catalog: Catalog):
    a = await catalog.add_product("A", stock=4)
    event = order_placed((a, 3))
    await handle(catalog.pool, on_order_placed, event)
    assert await catalog.stock(a) == 1
    failed = status_event(OrderFailed, event.order_id)
    await handle(catalog.pool, on_order_undelivered, failed)
    await handle(catalog.pool, on_order_undelivered, failed)
    assert await catalog.stock(a) == 4
    assert await reservation_status(catalog.pool, event.order_id) == "released"


async def test_cancelling_a_rejected_order_returns_nothing(catalog: Catalog):
    a = await catalog.add_product("A", stock=1)
    event = order_placed((a, 2))
    await handle(catalog.pool, on_order_placed, event)
    await handle(catalog.pool, on_order_undelivered, status_event(OrderCancelled, event.order_id))
    assert await catalog.stock(a) == 1
    assert [kind for kind, _ in await outbox(catalog.pool)] == [StockRejected.MESSAGE_TYPE]


async def test_a_cancellation_that_overtakes_its_order_blocks_the_late_reservation(
    catalog: Catalog,
):
    a = await catalog.add_product("A", stock=3)
    event = order_placed((a, 2))
    await handle(catalog.pool, on_order_undelivered, status_event(OrderCancelled, event.order_id))
    await handle(catalog.pool, on_order_placed, event)
    assert await catalog.stock(a) == 3
    assert await outbox(catalog.pool) == []


async def test_delivery_fulfils_the_reservation_and_cancel_after_it_returns_nothing(
    catalog: Catalog,
):
    a = await catalog.add_product("A", stock=3)
    event = order_placed((a, 2))
    await handle(catalog.pool, on_order_placed, event)
    await handle(catalog.pool, on_order_delivered, status_event(OrderDelivered, event.order_id))
    assert await reservation_status(catalog.pool, event.order_id) == "fulfilled"
    await handle(catalog.pool, on_order_undelivered, status_event(OrderCancelled, event.order_id))
    assert await catalog.stock(a) == 1


async def test_concurrent_orders_on_shared_products_neither_oversell_nor_deadlock(
    catalog: Catalog,
):
    a = await catalog.add_product("A", stock=20)
    b = await catalog.add_product("B", stock=20)
    # Half the orders list the products one way round, half the other: a naive lock order
    # would deadlock. 40 orders of 1+1 units for 20 of each: exactly 20 go through.
    events = [
        order_placed((a, 1), (b, 1)) if i % 2 else order_placed((b, 1), (a, 1)) for i in range(40)
    ]
    await asyncio.gather(*(handle(catalog.pool, on_order_placed, e) for e in events))
    assert (await catalog.stock(a), await catalog.stock(b)) == (0, 0)
    statuses = await catalog.pool.fetch("SELECT status, count(*) FROM reservations GROUP BY 1")
    assert dict(statuses) == {"reserved": 20, "rejected": 20}


async def wait_for(pool: asyncpg.Pool, sql: str, expected: int, timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while await pool.fetchval(sql) != expected:
            await asyncio.sleep(0.05)


async def test_fifty_orders_through_the_broker_for_the_last_ten_units(
    catalog_mq: Catalog, fresh_vhost: str
):
    catalog = catalog_mq
    last_units = await catalog.add_product("Последние 10 штук", stock=10, weight_g=250)
    events = {e.order_id: e for e in (order_placed((last_units, 1)) for _ in range(50))}
    connection = await aio_pika.connect_robust(fresh_vhost)
    try:
        async with collecting(connection, "t.catalog.stock", "catalog.reservation.*") as seen:
            await asyncio.gather(
                *(publish_event(connection, e, message_id=uuid4()) for e in events.values())
            )
            await seen.wait_for_distinct(50, timeout=30)
            bodies = [json.loads(body) for body in seen.bodies]
            reserved = [UUID(b["order_id"]) for b in bodies if "weight_g" in b]
            assert len(reserved) == 10
            assert all(b["weight_g"] == 250 for b in bodies if "weight_g" in b)
            assert sum(b.get("reason") == "insufficient_stock" for b in bodies) == 40
            assert await catalog.stock(last_units) == 0

            # A reserved order placed again and cancelled twice (new message ids each time):
            # one unit comes back, once.
            await publish_event(connection, events[reserved[0]], message_id=uuid4())
            cancelled = status_event(OrderCancelled, reserved[0])
            for _ in range(2):
                await publish_event(connection, cancelled, message_id=uuid4())
            await wait_for(catalog.pool, "SELECT count(*) FROM inbox", 53)
            await seen.wait_for_distinct(51, timeout=30)
    finally:
        await connection.close()
    assert await catalog.stock(last_units) == 1
    assert json.loads(seen.bodies[-1]) == {"order_id": str(reserved[0])}
    statuses = await catalog.pool.fetch("SELECT status, count(*) FROM reservations GROUP BY 1")
    assert dict(statuses) == {"reserved": 9, "released": 1, "rejected": 40}
    assert len(await outbox(catalog.pool)) == 51
