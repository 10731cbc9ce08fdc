"""The cart cookie: who a request is for the cart (the signed-in customer, the cookie
``cart_id``) and what the answer does to the cookie.

Policy 1.10: the cart works through a cookie ``cart_id`` (a random uuid, HttpOnly,
SameSite=Lax). Which cart that means, merging on sign-in, is ``cart.resolve_cart``.
"""

from __future__ import annotations

from uuid import UUID

from aiohttp import web

from shared.auth import PRINCIPAL
from shared.db import DbConn

from . import cart
from .cart import CartRef
from .config import Settings

CART_COOKIE = "cart_id"
COOKIE_PATH = "/api/orders"


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
    """The request's cart (``cart.resolve_cart``); run inside a transaction."""
    return await cart.resolve_cart(
        conn, signed_in_customer(request), cookie_cart_id(request), create=create
    )


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
