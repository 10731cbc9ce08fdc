"""Carts and their items (policy 1.10): anonymous ones keyed by the cookie, one per customer."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

import asyncpg

from shared.db import DbConn


async def customer_cart(conn: DbConn, customer_id: UUID) -> UUID | None:
    cart_id: UUID | None = await conn.fetchval(
        "SELECT id FROM carts WHERE customer_id = $1", customer_id
    )
    return cart_id


async def customer_cart_lines(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    """The lines of the customer's cart with when each was added (their export), one query."""
    return list(
        await conn.fetch(
            "SELECT i.product_id, i.quantity, i.added_at FROM carts c"
            " JOIN cart_items i ON i.cart_id = c.id WHERE c.customer_id = $1"
            " ORDER BY i.added_at, i.product_id",
            customer_id,
        )
    )


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


async def cart_lines(conn: DbConn, cart_id: UUID) -> list[tuple[UUID, int, datetime]]:
    """(product_id, quantity, added_at) of the cart, in ``cart_items``' order."""
    rows = await conn.fetch(
        "SELECT product_id, quantity, added_at FROM cart_items WHERE cart_id = $1"
        " ORDER BY added_at, product_id",
        cart_id,
    )
    return [(row["product_id"], row["quantity"], row["added_at"]) for row in rows]


async def add_cart_item(
    conn: DbConn, cart_id: UUID, product_id: UUID, quantity: int, max_quantity: int
) -> tuple[int, datetime] | None:
    """Add ``quantity`` units and touch the cart, in one statement; return the line's new
    quantity and when it was added, or None when it would exceed the cap."""
    row = await conn.fetchrow(
        "WITH touched AS (UPDATE carts SET updated_at = now() WHERE id = $1)"
        " INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, $3)"
        " ON CONFLICT (cart_id, product_id) DO UPDATE"
        " SET quantity = cart_items.quantity + EXCLUDED.quantity, added_at = now()"
        " WHERE cart_items.quantity + EXCLUDED.quantity <= $4"
        " RETURNING quantity, added_at",
        cart_id,
        product_id,
        quantity,
        max_quantity,
    )
    return (row["quantity"], row["added_at"]) if row else None


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


async def empty_cart(conn: DbConn, cart_id: UUID) -> None:
    await conn.execute("DELETE FROM cart_items WHERE cart_id = $1", cart_id)


async def purge_anonymous_carts(conn: DbConn, older_than_s: int) -> int:
    result: str = await conn.execute(
        "DELETE FROM carts WHERE customer_id IS NULL"
        " AND updated_at < now() - make_interval(secs => $1)",
        float(older_than_s),
    )
    return int(result.split()[-1])
