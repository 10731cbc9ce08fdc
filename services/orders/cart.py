"""The cart, the use case: which cart a caller has, and what may be put in it (policy 1.10).

A signed-in customer has one cart tied to the ``customer_id``; an anonymous cart named by
the cookie is merged into it (the cookie is then cleared) and can never reach it otherwise.
Each function runs inside a transaction the caller opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from shared.db import DbConn

from . import storage
from .domain import MAX_CART_LINES, MAX_QUANTITY


@dataclass(frozen=True)
class CartRef:
    """The caller's cart (None: none yet) and what the answer does to the cart cookie."""

    cart_id: UUID | None
    set_cookie: bool = False
    clear_cookie: bool = False


class CartFull(Exception):
    """The cart holds ``MAX_CART_LINES`` products already."""


class TooManyUnits(Exception):
    """More than ``MAX_QUANTITY`` units of one product."""


async def resolve_cart(
    conn: DbConn, customer_id: UUID | None, cookie_id: UUID | None, *, create: bool
) -> CartRef:
    """The caller's cart (merging an anonymous one on sign-in); ``create`` makes one."""
    if customer_id is not None:
        return await _customer_cart(conn, customer_id, cookie_id, create=create)
    return await _anonymous_cart(conn, cookie_id, create=create)


async def _customer_cart(
    conn: DbConn, customer_id: UUID, cookie_id: UUID | None, *, create: bool
) -> CartRef:
    cart_id = await storage.customer_cart(conn, customer_id)
    anonymous = cookie_id is not None and await storage.lock_anonymous_cart(conn, cookie_id)
    if anonymous and cookie_id is not None:
        cart_id = cart_id or await storage.ensure_customer_cart(conn, customer_id, uuid4())
        await storage.merge_anonymous_cart(conn, cookie_id, cart_id, MAX_QUANTITY)
    elif cart_id is None and create:
        cart_id = await storage.ensure_customer_cart(conn, customer_id, uuid4())
    return CartRef(cart_id=cart_id, clear_cookie=cookie_id is not None)


async def _anonymous_cart(conn: DbConn, cookie_id: UUID | None, *, create: bool) -> CartRef:
    if cookie_id is not None and await storage.anonymous_cart_exists(conn, cookie_id):
        return CartRef(cart_id=cookie_id)
    if not create:
        return CartRef(cart_id=None, clear_cookie=cookie_id is not None)
    cart_id = uuid4()
    await storage.create_anonymous_cart(conn, cart_id)
    return CartRef(cart_id=cart_id, set_cookie=True)


async def items_of(conn: DbConn, ref: CartRef) -> list[tuple[UUID, int]]:
    """(product_id, quantity) of the cart, oldest line first; [] without a cart."""
    return await storage.cart_items(conn, ref.cart_id) if ref.cart_id else []


async def add_item(
    conn: DbConn, cart_id: UUID, product_id: UUID, quantity: int
) -> list[tuple[UUID, int]]:
    """Add units of a product the catalog sells; raise ``CartFull`` or ``TooManyUnits``.
    Return the cart's lines after it, as ``items_of`` (from the read before and the added
    line: the cart is read once)."""
    lines = await storage.cart_lines(conn, cart_id)
    if all(line[0] != product_id for line in lines) and len(lines) >= MAX_CART_LINES:
        raise CartFull()
    added = await storage.add_cart_item(conn, cart_id, product_id, quantity, MAX_QUANTITY)
    if added is None:
        raise TooManyUnits()
    others = [line for line in lines if line[0] != product_id]
    after = sorted([*others, (product_id, *added)], key=lambda line: (line[2], line[0]))
    return [(line[0], line[1]) for line in after]


async def remove_item(conn: DbConn, ref: CartRef, product_id: UUID) -> bool:
    """Remove a product's line; False when it was not in the cart."""
    return ref.cart_id is not None and await storage.remove_cart_item(conn, ref.cart_id, product_id)
