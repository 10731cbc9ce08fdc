"""Which cart a request means: the signed-in customer's, or the anonymous one of the cookie.

Policy 1.10: the cart works through a cookie ``cart_id`` (a random uuid, HttpOnly,
SameSite=Lax). Once the caller is signed in, the cart is the customer's and an anonymous
cart named by the cookie is merged into it; the cookie is then cleared.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from aiohttp import web

from shared.auth import PRINCIPAL
from shared.db import DbConn

from . import storage
from .config import Settings
from .domain import MAX_QUANTITY

CART_COOKIE = "cart_id"
COOKIE_PATH = "/api/orders"


@dataclass(frozen=True)
class CartRef:
    cart_id: UUID | None
    set_cookie: bool = False
    clear_cookie: bool = False


def signed_in_customer(request: web.Request) -> UUID | None:
    principal = request.get(PRINCIPAL)
    if principal is None or principal.kind != "customer":
        return None
    return principal.subject


def cookie_cart_id(request: web.Request) -> UUID | None:
    raw = request.cookies.get(CART_COOKIE, "")
    try:
        return UUID(raw)
    except ValueError:
        return None


async def resolve_cart(conn: DbConn, request: web.Request, *, create: bool) -> CartRef:
    """The request's cart (merging an anonymous one on sign-in); run inside a transaction."""
    customer_id = signed_in_customer(request)
    cookie_id = cookie_cart_id(request)
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


def apply_cookie(response: web.StreamResponse, ref: CartRef, settings: Settings) -> None:
    if ref.set_cookie and ref.cart_id is not None:
        response.set_cookie(
            CART_COOKIE,
            str(ref.cart_id),
            max_age=settings.cart_cookie_max_age_s,
            path=COOKIE_PATH,
            httponly=True,
            samesite="Lax",
            secure=settings.cart_cookie_secure,
        )
    elif ref.clear_cookie:
        response.del_cookie(CART_COOKIE, path=COOKIE_PATH)
