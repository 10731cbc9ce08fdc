"""The cart: ``GET /api/orders/cart``, ``POST .../cart/items``, ``DELETE .../cart/items/{id}``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import Field, StrictInt

from shared.http import Problem, json_response, read_json
from shared.models import StrictBody

from .. import cart, cart_cookie
from ..domain import (
    MAX_CART_LINES,
    MAX_QUANTITY,
    CatalogProduct,
    PricedCart,
    PricedLine,
    money,
    price_cart,
)
from .common import app_settings, path_uuid, pool, products


class AddItem(StrictBody):
    product_id: UUID
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)


def _cart_line(line: PricedLine) -> dict[str, Any]:
    """A line of the cart; under a live promotion also the price without it."""
    item = {
        "product_id": str(line.product_id),
        "name": line.name,
        "quantity": line.quantity,
        "price": money(line.unit_price),
        "line_total": money(line.line_total),
    }
    if line.regular_price is not None:
        item["regular_price"] = money(line.regular_price)
    return item


def _cart_document(cart: PricedCart) -> dict[str, Any]:
    return {
        "items": [_cart_line(line) for line in cart.lines],
        "unavailable": [str(product_id) for product_id in cart.unavailable],
        "total": money(cart.total),
    }


async def _cart_response(
    request: web.Request,
    items: list[tuple[UUID, int]],
    known: dict[UUID, CatalogProduct] | None = None,
) -> web.Response:
    """The priced cart; ``known`` holds catalog data fetched for this request already, so
    only the other lines are asked for."""
    found = dict(known or {})
    missing = {product_id for product_id, _ in items} - found.keys()
    found.update(await products(request, missing))
    return json_response(_cart_document(price_cart(items, found)))


async def get_cart(request: web.Request) -> web.Response:
    async with pool(request).acquire() as conn, conn.transaction():
        ref = await cart_cookie.resolve_cart(conn, request, create=False)
        items = await cart.items_of(conn, ref)
    response = await _cart_response(request, items)
    cart_cookie.apply_cookie(response, ref, app_settings(request))
    return response


async def add_cart_item(request: web.Request) -> web.Response:
    body = await read_json(request, AddItem)
    product = await products(request, {body.product_id})
    if body.product_id not in product:
        raise Problem(404, "Unknown product", "The catalog has no such product.")
    async with pool(request).acquire() as conn, conn.transaction():
        ref = await cart_cookie.resolve_cart(conn, request, create=True)
        assert ref.cart_id is not None
        try:
            items = await cart.add_item(conn, ref.cart_id, body.product_id, body.quantity)
        except cart.CartFull:
            raise Problem(
                422, "Cart is full", f"A cart holds at most {MAX_CART_LINES} products."
            ) from None
        except cart.TooManyUnits:
            raise Problem(
                422, "Too many units", f"At most {MAX_QUANTITY} units of one product."
            ) from None
    response = await _cart_response(request, items, known=product)
    cart_cookie.apply_cookie(response, ref, app_settings(request))
    return response


async def remove_cart_item(request: web.Request) -> web.Response:
    product_id = path_uuid(request, "product_id")
    async with pool(request).acquire() as conn, conn.transaction():
        ref = await cart_cookie.resolve_cart(conn, request, create=False)
        removed = await cart.remove_item(conn, ref, product_id)
        items = await cart.items_of(conn, ref)
    if not removed:
        raise Problem(404, "Not in cart", "This product is not in the cart.")
    response = await _cart_response(request, items)
    cart_cookie.apply_cookie(response, ref, app_settings(request))
    return response
