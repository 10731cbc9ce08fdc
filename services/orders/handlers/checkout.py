"""Checkout: ``POST /api/orders/checkout``; the use case is ``services.orders.checkout``."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from aiohttp import web
from pydantic import Field

from shared.auth import require_customer
from shared.http import Problem, json_response, problem_response, read_json
from shared.models import StrictBody
from shared.network import coarse_place, request_network

from .. import cart_cookie
from .. import checkout as use_case
from ..checkout import CheckoutOrder, Reason, Refused
from ..domain import (
    request_hash,
    valid_idempotency_key,
)
from .common import app_settings, pool, products

IDEMPOTENCY_HEADER = "Idempotency-Key"
# The problem type of a refusal made automatically, one the customer may object to.
AUTOMATED_DECISION = "automated-decision"


class Delivery(StrictBody):
    courier: str = Field(min_length=1, max_length=64)


class Payment(StrictBody):
    method: Literal["card", "cash_on_delivery"]


class CheckoutBody(StrictBody):
    delivery: Delivery
    payment: Payment


def _idempotency_key(request: web.Request) -> str:
    key = request.headers.get(IDEMPOTENCY_HEADER)
    if key is None:
        raise Problem(428, "Idempotency-Key required", "Send an Idempotency-Key header.")
    if not valid_idempotency_key(key):
        raise Problem(400, "Bad Idempotency-Key", "Use 1 to 200 printable ASCII characters.")
    return key


_PROBLEMS: dict[Reason, tuple[int, str, str]] = {
    Reason.UNKNOWN_COURIER: (422, "Unknown courier", "Choose one of the offered couriers."),
    Reason.CARD_UNAVAILABLE: (422, "Card payment unavailable", "Choose cash on delivery for now."),
    Reason.KEY_REUSED: (
        409,
        "Idempotency-Key reused",
        "This key was used for a different checkout request; use a new key.",
    ),
    Reason.NOTHING_TO_PAY_BY_CARD: (
        422,
        "Nothing to pay by card",
        "This order costs nothing: choose cash on delivery.",
    ),
    Reason.CART_EMPTY: (409, "Cart is empty", "Add products to the cart before checkout."),
    Reason.PRODUCTS_UNAVAILABLE: (
        409,
        "Products unavailable",
        "Some products in the cart are no longer sold; remove them first.",
    ),
    Reason.CART_CHANGED: (409, "Cart changed", "The cart changed during checkout; try again."),
}
# RFC 9457 type URIs of the refusals a client is expected to tell apart.
CUSTOMER_BLOCKED_TYPE = "https://shop.kz/problems/customer-blocked"


def _blocked() -> Problem:
    return Problem(
        409,
        "Processing blocked",
        "You have blocked the processing of your data, so no new order can be placed."
        " Unblock it in your account (DELETE /api/customers/me/block) to order again;"
        " orders placed before the block are still delivered.",
        type=CUSTOMER_BLOCKED_TYPE,
    )


OBJECTION_ROUTE = "/api/customers/me/requests"


def _too_many(retry_after: int, decision_id: UUID) -> web.Response:
    """The velocity refusal: an automated decision (Law 94-V art. 19-1), so it says how to
    object to it and which decision an objection is about."""
    response = problem_response(
        429,
        "Too many checkouts",
        f"Too many checkouts in a short time; try again in {retry_after} s. This refusal was"
        " made automatically: you may object to it, and a person will review it within 3"
        " working days.",
        instance="/api/orders/checkout",
        type=AUTOMATED_DECISION,
        retry_after_s=retry_after,
        decision_id=str(decision_id),
        objection={
            "method": "POST",
            "href": OBJECTION_ROUTE,
            "body": {"kind": "objection", "detail": f"checkout decision {decision_id}"},
        },
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


async def checkout(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    settings = app_settings(request)
    key = _idempotency_key(request)
    body = await read_json(request, CheckoutBody)
    order = CheckoutOrder(
        customer_id=customer_id,
        key=key,
        courier=body.delivery.courier,
        payment_method=body.payment.method,
        body_hash=request_hash(body.model_dump_json()),
        network=request_network(request, settings.trusted_proxies),
        city=coarse_place(request.headers.get("X-Geo-City")),
        region=coarse_place(request.headers.get("X-Geo-Region")),
    )
    try:
        placed = await use_case.checkout(
            pool(request),
            settings,
            order,
            lambda conn: cart_cookie.resolve_cart(conn, request, create=False),
            lambda ids: products(request, ids),
        )
    except Refused as refused:
        if refused.reason is Reason.TOO_MANY:
            return _too_many(refused.details["retry_after_s"], refused.details["decision_id"])
        if refused.reason is Reason.CUSTOMER_BLOCKED:
            raise _blocked() from None
        raise Problem(*_PROBLEMS[refused.reason], **refused.details) from None
    response = json_response(
        {"id": str(placed.id), "status": placed.status, "order_ref": placed.order_ref},
        status=201 if placed.created else 200,
    )
    if placed.cart is not None:
        cart_cookie.apply_cookie(response, placed.cart, settings)
    return response
