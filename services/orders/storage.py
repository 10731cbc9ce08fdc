"""PostgreSQL access of the orders service: plain SQL, functions taking a connection."""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from dataclasses import dataclass
from uuid import UUID

import asyncpg

from shared.db import DbConn

from .domain import Cursor, PaymentMethod, PaymentStatus, PricedLine, Status

# --- carts ------------------------------------------------------------------------------


async def customer_cart(conn: DbConn, customer_id: UUID) -> UUID | None:
    cart_id: UUID | None = await conn.fetchval(
        "SELECT id FROM carts WHERE customer_id = $1", customer_id
    )
    return cart_id


async def anonymous_cart_exists(conn: DbConn, cart_id: UUID) -> bool:
    found = await conn.fetchval(
        "SELECT true FROM carts WHERE id = $1 AND customer_id IS NULL", cart_id
    )
    return bool(found)


async def lock_anonymous_cart(conn: DbConn, cart_id: UUID) -> bool:
    """Lock an anonymous cart before merging it (a concurrent merge then finds it gone)."""
    found = await conn.fetchval(
        "SELECT true FROM carts WHERE id = $1 AND customer_id IS NULL FOR UPDATE", cart_id
    )
    return bool(found)


async def create_anonymous_cart(conn: DbConn, cart_id: UUID) -> None:
    await conn.execute("INSERT INTO carts (id) VALUES ($1)", cart_id)


async def ensure_customer_cart(conn: DbConn, customer_id: UUID, new_id: UUID) -> UUID:
    """The customer's cart, created with ``new_id`` if there is none (race-safe)."""
    await conn.execute(
        "INSERT INTO carts (id, customer_id) VALUES ($1, $2) ON CONFLICT (customer_id) DO NOTHING",
        new_id,
        customer_id,
    )
    cart_id = await customer_cart(conn, customer_id)
    assert cart_id is not None
    return cart_id


async def cart_items(conn: DbConn, cart_id: UUID) -> list[tuple[UUID, int]]:
    rows = await conn.fetch(
        "SELECT product_id, quantity FROM cart_items WHERE cart_id = $1"
        " ORDER BY added_at, product_id",
        cart_id,
    )
    return [(row["product_id"], row["quantity"]) for row in rows]


async def count_cart_lines(conn: DbConn, cart_id: UUID) -> int:
    count: int = await conn.fetchval("SELECT count(*) FROM cart_items WHERE cart_id = $1", cart_id)
    return count


async def add_cart_item(
    conn: DbConn, cart_id: UUID, product_id: UUID, quantity: int, max_quantity: int
) -> int | None:
    """Add ``quantity`` units; return the new quantity, or None when it would exceed the cap."""
    new_quantity: int | None = await conn.fetchval(
        "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)"
        " ON CONFLICT (cart_id, product_id) DO UPDATE"
        " SET quantity = cart_items.quantity + EXCLUDED.quantity, added_at = now()"
        " WHERE cart_items.quantity + EXCLUDED.quantity <= $4"
        " RETURNING quantity",
        cart_id,
        product_id,
        quantity,
        max_quantity,
    )
    await touch_cart(conn, cart_id)
    return new_quantity


async def remove_cart_item(conn: DbConn, cart_id: UUID, product_id: UUID) -> bool:
    result: str = await conn.execute(
        "DELETE FROM cart_items WHERE cart_id = $1 AND product_id = $2", cart_id, product_id
    )
    await touch_cart(conn, cart_id)
    return result != "DELETE 0"


async def touch_cart(conn: DbConn, cart_id: UUID) -> None:
    await conn.execute("UPDATE carts SET updated_at = now() WHERE id = $1", cart_id)


async def merge_anonymous_cart(
    conn: DbConn, anonymous_id: UUID, into_id: UUID, max_quantity: int
) -> None:
    """Move an anonymous cart's items into a customer's cart and delete the anonymous one.

    Products in one cart only are carried over; for a product in both, the line changed
    last (``added_at`` moves on every change) wins, quantity and all.
    """
    await conn.execute(
        "INSERT INTO cart_items (cart_id, product_id, quantity, added_at)"
        " SELECT $2, product_id, least(quantity, $3), added_at FROM cart_items"
        " WHERE cart_id = $1"
        " ON CONFLICT (cart_id, product_id) DO UPDATE"
        " SET quantity = CASE WHEN EXCLUDED.added_at > cart_items.added_at"
        " THEN EXCLUDED.quantity ELSE cart_items.quantity END,"
        " added_at = greatest(cart_items.added_at, EXCLUDED.added_at)",
        anonymous_id,
        into_id,
        max_quantity,
    )
    await conn.execute("DELETE FROM carts WHERE id = $1 AND customer_id IS NULL", anonymous_id)
    await touch_cart(conn, into_id)


async def lock_cart(conn: DbConn, cart_id: UUID) -> None:
    await conn.execute("SELECT 1 FROM carts WHERE id = $1 FOR UPDATE", cart_id)


async def empty_cart(conn: DbConn, cart_id: UUID) -> None:
    await conn.execute("DELETE FROM cart_items WHERE cart_id = $1", cart_id)


async def purge_anonymous_carts(conn: DbConn, older_than_s: int) -> int:
    result: str = await conn.execute(
        "DELETE FROM carts WHERE customer_id IS NULL"
        " AND updated_at < now() - make_interval(secs => $1)",
        float(older_than_s),
    )
    return int(result.split()[-1])


async def purge_empty_carts(conn: DbConn, older_than_s: int) -> int:
    """Delete carts without items untouched for ``older_than_s`` (a new one comes on demand)."""
    result: str = await conn.execute(
        "DELETE FROM carts c WHERE c.updated_at < now() - make_interval(secs => $1)"
        " AND NOT EXISTS (SELECT 1 FROM cart_items i WHERE i.cart_id = c.id)",
        float(older_than_s),
    )
    return int(result.split()[-1])


# --- checkout idempotency ---------------------------------------------------------------


async def claim_checkout_key(
    conn: DbConn, customer_id: UUID, key: str, body_hash: str, order_id: UUID
) -> bool:
    """Claim the key for a new order; False if it is taken (waits for a concurrent claim)."""
    claimed = await conn.fetchval(
        "INSERT INTO checkout_requests (customer_id, idempotency_key, request_hash, order_id)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
        customer_id,
        key,
        body_hash,
        order_id,
    )
    return bool(claimed)


async def find_checkout_key(conn: DbConn, customer_id: UUID, key: str) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT c.request_hash, o.id, o.status, o.order_ref FROM checkout_requests c"
        " JOIN orders o ON o.id = c.order_id"
        " WHERE c.customer_id = $1 AND c.idempotency_key = $2",
        customer_id,
        key,
    )
    return row


# --- orders -----------------------------------------------------------------------------


@dataclass(frozen=True)
class NewOrder:
    id: UUID
    order_ref: str
    customer_id: UUID
    payment_method: PaymentMethod
    courier: str
    total: int


async def insert_order(conn: DbConn, order: NewOrder) -> bool:
    """Insert the order row; False if its order_ref is already taken (nothing written)."""
    inserted = await conn.fetchval(
        "INSERT INTO orders (id, order_ref, customer_id, status, payment_method, courier,"
        " total_amount) VALUES ($1, $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (order_ref) DO NOTHING RETURNING true",
        order.id,
        order.order_ref,
        order.customer_id,
        Status.PLACED.value,
        order.payment_method,
        order.courier,
        order.total,
    )
    return bool(inserted)


async def insert_lines(conn: DbConn, order_id: UUID, lines: Sequence[PricedLine]) -> None:
    await conn.executemany(
        "INSERT INTO order_lines (order_id, line_no, product_id, sku, name, unit_price, quantity)"
        " VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (order_id, n, line.product_id, line.sku, line.name, line.unit_price, line.quantity)
            for n, line in enumerate(lines, start=1)
        ],
    )


async def add_history(conn: DbConn, order_id: UUID, status: Status, cause: str) -> None:
    await conn.execute(
        "INSERT INTO order_status_history (order_id, status, cause) VALUES ($1, $2, $3)",
        order_id,
        status.value,
        cause,
    )


async def set_status(conn: DbConn, order_id: UUID, status: Status) -> None:
    await conn.execute(
        "UPDATE orders SET status = $2, updated_at = now() WHERE id = $1", order_id, status.value
    )


_ORDER_COLUMNS = (
    "o.id, o.order_ref, o.customer_id, o.status, o.payment_method, o.courier, o.total_amount,"
    " o.currency, o.created_at, o.needs_attention_at, o.weight_g,"
    " EXISTS (SELECT 1 FROM dispatches d WHERE d.order_id = o.id) AS dispatch_requested,"
    " EXISTS (SELECT 1 FROM dispatches d WHERE d.order_id = o.id AND d.release_id IS NOT NULL)"
    " AS dispatch_released"
)


async def lock_order(conn: DbConn, order_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.id = $1 FOR UPDATE OF o",  # noqa: S608
        order_id,
    )
    return row


async def customer_order(conn: DbConn, customer_id: UUID, order_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.id = $1 AND o.customer_id = $2",  # noqa: S608
        order_id,
        customer_id,
    )
    return row


async def customer_orders(
    conn: DbConn, customer_id: UUID, limit: int, after: Cursor | None = None
) -> list[asyncpg.Record]:
    """The customer's orders, newest first, after the cursor (keyset paging)."""
    if after is None:
        return list(
            await conn.fetch(
                f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.customer_id = $1"  # noqa: S608
                " ORDER BY o.created_at DESC, o.id DESC LIMIT $2",
                customer_id,
                limit,
            )
        )
    return list(
        await conn.fetch(
            f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.customer_id = $1"  # noqa: S608
            " AND (o.created_at, o.id) < ($2, $3)"
            " ORDER BY o.created_at DESC, o.id DESC LIMIT $4",
            customer_id,
            after.created_at,
            after.order_id,
            limit,
        )
    )


async def order_lines(conn: DbConn, order_ids: Sequence[UUID]) -> dict[UUID, list[asyncpg.Record]]:
    rows = await conn.fetch(
        "SELECT order_id, product_id, sku, name, unit_price, quantity FROM order_lines"
        " WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, line_no",
        list(order_ids),
    )
    return _group(rows)


async def order_history(
    conn: DbConn, order_ids: Sequence[UUID]
) -> dict[UUID, list[asyncpg.Record]]:
    rows = await conn.fetch(
        "SELECT order_id, status, cause, at FROM order_status_history"
        " WHERE order_id = ANY($1::uuid[]) ORDER BY order_id, id",
        list(order_ids),
    )
    return _group(rows)


def _group(rows: Sequence[asyncpg.Record]) -> dict[UUID, list[asyncpg.Record]]:
    grouped: dict[UUID, list[asyncpg.Record]] = {}
    for row in rows:
        grouped.setdefault(row["order_id"], []).append(row)
    return grouped


async def set_weight(conn: DbConn, order_id: UUID, weight_g: int) -> None:
    await conn.execute("UPDATE orders SET weight_g = $2 WHERE id = $1", order_id, weight_g)


async def order_units(conn: DbConn, order_id: UUID) -> int:
    units: int = await conn.fetchval(
        "SELECT coalesce(sum(quantity), 0) FROM order_lines WHERE order_id = $1", order_id
    )
    return units


# --- fulfilment -------------------------------------------------------------------------


async def insert_dispatch(conn: DbConn, dispatch_id: UUID, order_id: UUID, courier: str) -> None:
    await conn.execute(
        "INSERT INTO dispatches (id, order_id, courier, status) VALUES ($1, $2, $3, 'requested')",
        dispatch_id,
        order_id,
        courier,
    )


async def get_dispatch(conn: DbConn, dispatch_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, order_id, courier, status, release_id FROM dispatches WHERE id = $1",
        dispatch_id,
    )
    return row


async def order_dispatch(conn: DbConn, order_id: UUID) -> asyncpg.Record | None:
    """The order's dispatch, locked (take the order's lock first: one lock order everywhere)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, order_id, courier, status, release_id FROM dispatches"
        " WHERE order_id = $1 FOR UPDATE",
        order_id,
    )
    return row


async def cancel_dispatch(conn: DbConn, dispatch_id: UUID) -> None:
    await conn.execute(
        "UPDATE dispatches SET status = 'cancelled', cancelled_at = coalesce(cancelled_at, now()),"
        " updated_at = now() WHERE id = $1",
        dispatch_id,
    )


async def set_dispatch_status(
    conn: DbConn, dispatch_id: UUID, status: str, release_id: UUID | None = None
) -> None:
    await conn.execute(
        "UPDATE dispatches SET status = $2, release_id = coalesce($3, release_id),"
        " updated_at = now() WHERE id = $1",
        dispatch_id,
        status,
        release_id,
    )


async def record_courier_callback(
    conn: DbConn, courier: str, event_id: UUID, dispatch_id: UUID, status: str
) -> bool:
    """Record a courier event; False when this event id was applied before (a replay)."""
    fresh = await conn.fetchval(
        "INSERT INTO courier_callbacks (courier, event_id, dispatch_id, status)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING RETURNING true",
        courier,
        event_id,
        dispatch_id,
        status,
    )
    return bool(fresh)


# --- export -----------------------------------------------------------------------------


async def all_customer_orders(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            f"SELECT {_ORDER_COLUMNS} FROM orders o WHERE o.customer_id = $1"  # noqa: S608
            " ORDER BY o.created_at DESC, o.id DESC",
            customer_id,
        )
    )


# --- card payments ----------------------------------------------------------------------


async def insert_payment(
    conn: DbConn, payment_id: UUID, order_id: UUID, bank: str, amount: int, timeout_s: int
) -> None:
    await conn.execute(
        "INSERT INTO payments (id, order_id, bank, amount, status, expires_at)"
        " VALUES ($1, $2, $3, $4, 'requested', now() + make_interval(secs => $5))",
        payment_id,
        order_id,
        bank,
        amount,
        float(timeout_s),
    )


_PAYMENT_COLUMNS = "id, order_id, bank, amount, currency, status, expires_at, updated_at"


async def get_payment(conn: DbConn, payment_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE id = $1",  # noqa: S608
        payment_id,
    )
    return row


async def lock_order_payment(conn: DbConn, order_id: UUID) -> asyncpg.Record | None:
    """The order's payment, locked (take the order's lock first: one lock order everywhere)."""
    row: asyncpg.Record | None = await conn.fetchrow(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE order_id = $1 FOR UPDATE",  # noqa: S608
        order_id,
    )
    return row


async def set_payment_status(conn: DbConn, payment_id: UUID, status: PaymentStatus) -> None:
    await conn.execute(
        "UPDATE payments SET status = $2, updated_at = now() WHERE id = $1",
        payment_id,
        status.value,
    )


async def order_payments(conn: DbConn, order_ids: Sequence[UUID]) -> dict[UUID, asyncpg.Record]:
    rows = await conn.fetch(
        f"SELECT {_PAYMENT_COLUMNS} FROM payments WHERE order_id = ANY($1::uuid[])",  # noqa: S608
        list(order_ids),
    )
    return {row["order_id"]: row for row in rows}


async def record_payment_callback(
    conn: DbConn, bank: str, event_id: UUID, payment_id: UUID, status: str, body_hash: str
) -> str | None:
    """Record a bank event; None when new, else the body hash it was first recorded with."""
    fresh = await conn.fetchval(
        "INSERT INTO payment_callbacks (bank, event_id, payment_id, status, body_hash)"
        " VALUES ($1, $2, $3, $4, $5) ON CONFLICT DO NOTHING RETURNING true",
        bank,
        event_id,
        payment_id,
        status,
        body_hash,
    )
    if fresh:
        return None
    known: str = await conn.fetchval(
        "SELECT body_hash FROM payment_callbacks WHERE bank = $1 AND event_id = $2",
        bank,
        event_id,
    )
    return known


async def lock_expired_payment_orders(conn: DbConn, limit: int) -> list[UUID]:
    """Orders whose payment window closed, locked; rows another worker holds are skipped."""
    rows = await conn.fetch(
        "SELECT o.id FROM orders o JOIN payments p ON p.order_id = o.id"
        " WHERE p.status = 'requested' AND p.expires_at < now()"
        " AND o.status = 'awaiting_payment'"
        " ORDER BY p.expires_at LIMIT $1 FOR UPDATE OF o SKIP LOCKED",
        limit,
    )
    return [row["id"] for row in rows]


# --- courier timeouts -------------------------------------------------------------------


async def flag_unconfirmed_dispatches(
    conn: DbConn, older_than_s: int, limit: int
) -> list[asyncpg.Record]:
    """Mark dispatched orders without a courier confirmation for too long; return them."""
    return list(
        await conn.fetch(
            "UPDATE orders SET needs_attention_at = now() WHERE id IN ("
            " SELECT id FROM orders WHERE status = 'dispatched' AND needs_attention_at IS NULL"
            " AND updated_at < now() - make_interval(secs => $1)"
            " ORDER BY updated_at LIMIT $2 FOR UPDATE SKIP LOCKED)"
            " RETURNING id, order_ref, status",
            float(older_than_s),
            limit,
        )
    )


async def orders_needing_attention(conn: DbConn, limit: int) -> list[asyncpg.Record]:
    """Dispatched orders raised for support and still unresolved, oldest first."""
    return list(
        await conn.fetch(
            "SELECT o.id, o.order_ref, o.status, o.courier, o.updated_at AS dispatched_at,"
            " o.needs_attention_at, d.id AS dispatch_id FROM orders o"
            " LEFT JOIN dispatches d ON d.order_id = o.id"
            " WHERE o.needs_attention_at IS NOT NULL AND o.status = 'dispatched'"
            " ORDER BY o.needs_attention_at, o.id LIMIT $1",
            limit,
        )
    )


# --- velocity and IP statistics (policy 5.6) ---------------------------------------------

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


async def count_checkout(
    conn: DbConn,
    attempt: str,
    customer_id: UUID,
    network: Network | None,
) -> tuple[int, int, float]:
    """Count a checkout attempt in this minute's window per account and per network.

    Returns (account attempts, network attempts, seconds until the window ends); an attempt
    already counted (a retry) adds nothing. Without a network, 0. The counters are shared
    rows, locked until the transaction ends: call this last in it."""
    row = await conn.fetchrow(
        "WITH w AS (SELECT date_trunc('minute', now()) AS start),"
        " fresh AS (INSERT INTO checkout_attempts (window_start, attempt)"
        "  SELECT start, $3 FROM w ON CONFLICT DO NOTHING RETURNING 1),"
        " counted AS (INSERT INTO checkout_velocity (scope, subject, window_start, attempts)"
        "  SELECT s.scope, s.subject, w.start, 1 FROM w,"
        "   (VALUES ('account', $1), ('network', $2::text)) AS s (scope, subject)"
        "  WHERE s.subject IS NOT NULL AND EXISTS (SELECT 1 FROM fresh)"
        "  ORDER BY s.scope"  # one lock order for every checkout: no deadlock
        "  ON CONFLICT (scope, subject, window_start)"
        "  DO UPDATE SET attempts = checkout_velocity.attempts + 1"
        "  RETURNING scope, attempts),"
        # A retry counted nothing: it reads the counters as they are.
        " seen AS (SELECT v.scope, v.attempts FROM checkout_velocity v, w"
        "  WHERE v.window_start = w.start AND ((v.scope = 'account' AND v.subject = $1)"
        "   OR (v.scope = 'network' AND v.subject = $2::text)))"
        " SELECT"
        " coalesce((SELECT attempts FROM counted WHERE scope = 'account'),"
        "  (SELECT attempts FROM seen WHERE scope = 'account'), 0) AS account,"
        " coalesce((SELECT attempts FROM counted WHERE scope = 'network'),"
        "  (SELECT attempts FROM seen WHERE scope = 'network'), 0) AS network,"
        " extract(epoch FROM (SELECT start FROM w) + interval '1 minute' - now()) AS left_s",
        str(customer_id),
        str(network) if network is not None else None,
        attempt,
    )
    assert row is not None
    return int(row["account"]), int(row["network"]), float(row["left_s"])


async def purge_velocity(conn: DbConn, older_than_s: int) -> int:
    purged = await conn.fetchval(
        "WITH counters AS (DELETE FROM checkout_velocity"
        "  WHERE window_start < now() - make_interval(secs => $1) RETURNING 1),"
        " attempts AS (DELETE FROM checkout_attempts"
        "  WHERE window_start < now() - make_interval(secs => $1) RETURNING 1)"
        " SELECT (SELECT count(*) FROM counters) + (SELECT count(*) FROM attempts)",
        float(older_than_s),
    )
    return int(purged)


async def record_network_checkout(conn: DbConn, network: Network, city: str, region: str) -> None:
    await conn.execute(
        "INSERT INTO checkout_network_stats (day, network, geo_city, geo_region, checkouts)"
        " VALUES (current_date, $1, $2, $3, 1)"
        " ON CONFLICT (day, network, geo_city, geo_region)"
        " DO UPDATE SET checkouts = checkout_network_stats.checkouts + 1",
        network,
        city,
        region,
    )


async def network_stats(conn: DbConn, since_days: int) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT day, network, geo_city, geo_region, checkouts FROM checkout_network_stats"
            " WHERE day > current_date - $1::int ORDER BY day DESC, checkouts DESC, network",
            since_days,
        )
    )
