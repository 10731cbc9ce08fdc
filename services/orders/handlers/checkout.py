"""Checkout: ``POST /api/orders/checkout`` (idempotency, velocity, the cart check, placing)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal
from uuid import UUID, uuid4

import asyncpg
from aiohttp import web
from pydantic import Field

from shared.auth import require_customer
from shared.db import DbConn
from shared.http import Problem, json_response, problem_response, read_json
from shared.models import StrictBody
from shared.network import coarse_place, request_network

from .. import cart_cookie, storage
from ..config import Settings
from ..domain import (
    PricedCart,
    Status,
    Velocity,
    price_cart,
    request_hash,
    valid_idempotency_key,
)
from ..workflow import Checkout, place_order
from .common import app_settings, pool, products

IDEMPOTENCY_HEADER = "Idempotency-Key"


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


def _replay(row: asyncpg.Record, body_hash: str) -> web.Response:
    if row["request_hash"] != body_hash:
        raise Problem(
            409,
            "Idempotency-Key reused",
            "This key was used for a different checkout request; use a new key.",
        )
    return json_response(
        {"id": str(row["id"]), "status": row["status"], "order_ref": row["order_ref"]}
    )


def _check_payment_method(settings: Settings, body: CheckoutBody) -> None:
    if body.payment.method == "card" and settings.bank_code not in settings.bank_secrets:
        raise Problem(422, "Card payment unavailable", "Choose cash on delivery for now.")


def _client_network(request: web.Request) -> storage.Network | None:
    return request_network(request, app_settings(request).trusted_proxies)


async def _velocity_refusal(
    conn: DbConn, settings: Settings, customer_id: UUID, key: str, network: storage.Network | None
) -> web.Response | None:
    """A 429 problem with Retry-After when this checkout exceeds a velocity limit.

    Attempts are counted by (customer, Idempotency-Key): retries of one request count once."""
    account_limit = settings.checkout_limit_per_account_per_min
    network_limit = settings.checkout_limit_per_network_per_min
    if not account_limit and not network_limit:
        return None
    attempt = request_hash(f"{customer_id}:{key}")
    account, per_network, left_s = await storage.count_checkout(
        conn, attempt, customer_id, network if network_limit else None
    )
    velocity = Velocity(
        account=account,
        network=per_network,
        account_limit=account_limit,
        network_limit=network_limit,
    )
    if not velocity.exceeded:
        return None
    retry_after = max(1, math.ceil(left_s))
    response = problem_response(
        429,
        "Too many checkouts",
        f"Too many checkouts in a short time; try again in {retry_after} s.",
        instance="/api/orders/checkout",
        retry_after_s=retry_after,
    )
    response.headers["Retry-After"] = str(retry_after)
    return response


@dataclass(frozen=True)
class NetworkCheckout:
    """Policy 5.6: the network and at most city and region; never who or which order."""

    network: storage.Network
    city: str
    region: str


def _network_checkout(
    request: web.Request, network: storage.Network | None
) -> NetworkCheckout | None:
    if network is None:
        return None
    city = coarse_place(request.headers.get("X-Geo-City"))
    region = coarse_place(request.headers.get("X-Geo-Region"))
    return NetworkCheckout(network, city, region)


async def checkout(request: web.Request) -> web.Response:
    """Two transactions: (1) replay a known key, count the attempt, read the cart; then the
    catalog prices the lines (no transaction open); (2) claim the key and place the order."""
    customer_id = require_customer(request)
    settings = app_settings(request)
    key = _idempotency_key(request)
    body = await read_json(request, CheckoutBody)
    if body.delivery.courier not in settings.couriers:
        raise Problem(422, "Unknown courier", "Choose one of the offered couriers.")
    _check_payment_method(settings, body)
    body_hash = request_hash(body.model_dump_json())
    network = _client_network(request)
    async with pool(request).acquire() as conn:
        async with conn.transaction():
            existing = await storage.find_checkout_key(conn, customer_id, key)
            if existing is not None:
                return _replay(existing, body_hash)
            ref = await cart_cookie.resolve_cart(conn, request, create=False)
            items = await storage.cart_items(conn, ref.cart_id) if ref.cart_id else []
            # Last: the counters are rows shared by a network, locked until the commit.
            refusal = await _velocity_refusal(conn, settings, customer_id, key, network)
            if refusal is not None:
                return refusal  # the attempt is counted: the transaction commits
        priced = price_cart(items, await products(request, {p for p, _ in items}))
        if body.payment.method == "card" and priced.lines and priced.total == 0:
            # A bank takes no payment of nothing; such an order goes as cash on delivery.
            raise Problem(
                422, "Nothing to pay by card", "This order costs nothing: choose cash on delivery."
            )
        placing = Placing(customer_id, key, body, body_hash, ref.cart_id, priced)
        response = await _place(conn, placing, _network_checkout(request, network))
    cart_cookie.apply_cookie(response, ref, settings)
    return response


@dataclass(frozen=True)
class Placing:
    customer_id: UUID
    key: str
    body: CheckoutBody
    body_hash: str
    cart_id: UUID | None
    priced: PricedCart


async def _place(
    conn: DbConn, placing: Placing, network_checkout: NetworkCheckout | None
) -> web.Response:
    """Claim the key first: a concurrent or late duplicate always sees the first order.
    The network statistic is written last, in the same transaction, by a placed order only
    (its row is shared by every checkout from the network: locked for the commit only)."""
    order_id = uuid4()
    customer_id, key, body = placing.customer_id, placing.key, placing.body
    async with conn.transaction():
        if not await storage.claim_checkout_key(
            conn, customer_id, key, placing.body_hash, order_id
        ):
            existing = await storage.find_checkout_key(conn, customer_id, key)
            assert existing is not None
            return _replay(existing, placing.body_hash)
        await _check_cart_unchanged(conn, placing.cart_id, placing.priced)
        assert placing.cart_id is not None
        order = await place_order(
            conn,
            order_id,
            Checkout(customer_id, body.delivery.courier, body.payment.method, placing.priced.lines),
        )
        await storage.empty_cart(conn, placing.cart_id)
        if network_checkout is not None:
            await storage.record_network_checkout(
                conn, network_checkout.network, network_checkout.city, network_checkout.region
            )
    return json_response(
        {"id": str(order.id), "status": Status.PLACED.value, "order_ref": order.order_ref},
        status=201,
    )


async def _check_cart_unchanged(conn: DbConn, cart_id: UUID | None, priced: PricedCart) -> None:
    if cart_id is None or (not priced.lines and not priced.unavailable):
        raise Problem(409, "Cart is empty", "Add products to the cart before checkout.")
    if priced.unavailable:
        raise Problem(
            409,
            "Products unavailable",
            "Some products in the cart are no longer sold; remove them first.",
            product_ids=[str(p) for p in priced.unavailable],
        )
    await storage.lock_cart(conn, cart_id)
    current = await storage.cart_items(conn, cart_id)
    if sorted(current) != sorted((line.product_id, line.quantity) for line in priced.lines):
        raise Problem(409, "Cart changed", "The cart changed during checkout; try again.")
