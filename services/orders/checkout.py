"""Checkout, the use case: idempotency, blocking, velocity, the cart check, placing the order.

Two transactions: (1) replay a known key, count the attempt, read the cart; then the catalog
prices the lines (no transaction open); (2) claim the key and place the order. A refusal is
a ``Refused`` naming why; the HTTP answer to each is the handler's business. A velocity
refusal is an automated decision (Law 94-V art. 19-1): it is recorded (``decision_id`` in
the refusal) so the customer can object to it and the privacy officer review it.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable, Collection
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any
from uuid import UUID, uuid4

import asyncpg

from shared.db import DbConn
from shared.network import Network

from . import storage
from .cart_cookie import CartRef
from .config import Settings
from .domain import (
    CatalogProduct,
    PaymentMethod,
    PricedCart,
    Status,
    Velocity,
    price_cart,
    request_hash,
)
from .workflow import Checkout, place_order

PriceLookup = Callable[[Collection[UUID]], Awaitable[dict[UUID, CatalogProduct]]]
CartLookup = Callable[[DbConn], Awaitable[CartRef]]


class Reason(StrEnum):
    UNKNOWN_COURIER = "unknown_courier"
    CARD_UNAVAILABLE = "card_unavailable"
    KEY_REUSED = "key_reused"
    TOO_MANY = "too_many"
    NOTHING_TO_PAY_BY_CARD = "nothing_to_pay_by_card"
    CART_EMPTY = "cart_empty"
    PRODUCTS_UNAVAILABLE = "products_unavailable"
    CART_CHANGED = "cart_changed"
    CUSTOMER_BLOCKED = "customer_blocked"


class Refused(Exception):
    """The checkout is refused; ``reason`` says why (with what the answer may name)."""

    def __init__(self, reason: Reason, **details: Any) -> None:
        super().__init__(reason.value)
        self.reason = reason
        self.details = details


@dataclass(frozen=True)
class CheckoutOrder:
    """What the customer asked for, and where from (policy 5.6: network, city, region)."""

    customer_id: UUID
    key: str
    courier: str
    payment_method: PaymentMethod
    body_hash: str
    network: Network | None
    city: str = ""
    region: str = ""


@dataclass(frozen=True)
class Placed:
    id: UUID
    status: str
    order_ref: str
    created: bool  # False: a replay of the order this key placed before
    cart: CartRef | None = field(default=None, compare=False)


def check_offer(settings: Settings, courier: str, method: PaymentMethod) -> None:
    if courier not in settings.couriers:
        raise Refused(Reason.UNKNOWN_COURIER)
    if method == "card" and settings.bank_code not in settings.bank_secrets:
        raise Refused(Reason.CARD_UNAVAILABLE)


async def checkout(
    pool: asyncpg.Pool,
    settings: Settings,
    order: CheckoutOrder,
    resolve_cart: CartLookup,
    prices: PriceLookup,
) -> Placed:
    check_offer(settings, order.courier, order.payment_method)
    async with pool.acquire() as conn:
        async with conn.transaction():
            first = await storage.find_checkout_key_and_block(conn, order.customer_id, order.key)
            if first.existing is not None:
                return _replay(first.existing, order.body_hash)
            _refuse_blocked(first.blocked)
            ref = await resolve_cart(conn)
            items = await storage.cart_items(conn, ref.cart_id) if ref.cart_id else []
            # Last: the counters are rows shared by a network, locked until the commit.
            refusal = await _velocity_refusal(conn, settings, order)
        if refusal is not None:
            raise refusal  # the attempt counted, the decision recorded
        priced = price_cart(items, await prices({p for p, _ in items}))
        if order.payment_method == "card" and priced.lines and priced.total == 0:
            # A bank takes no payment of nothing; such an order goes as cash on delivery.
            raise Refused(Reason.NOTHING_TO_PAY_BY_CARD)
        placed = await _place(conn, order, ref.cart_id, priced)
    return Placed(placed.id, placed.status, placed.order_ref, placed.created, ref)


def _refuse_blocked(blocked: bool) -> None:
    """A customer who blocked processing (Law 94-V art. 1) places no new order: a new order
    would mean new processing (a delivery release, mail). A replay of a key used before the
    block still answers with its order (checked first), and orders already placed go on."""
    if blocked:
        raise Refused(Reason.CUSTOMER_BLOCKED)


def _replay(row: asyncpg.Record, body_hash: str) -> Placed:
    if row["request_hash"] != body_hash:
        raise Refused(Reason.KEY_REUSED)
    return Placed(row["id"], row["status"], row["order_ref"], created=False)


async def _velocity_refusal(
    conn: DbConn, settings: Settings, order: CheckoutOrder
) -> Refused | None:
    """The refusal when this checkout exceeds a velocity limit, else None.

    Attempts are counted by (customer, Idempotency-Key): retries of one request count once,
    and are the same recorded decision. The refusal names the seconds to wait and the
    decision's id."""
    account_limit = settings.checkout_limit_per_account_per_min
    network_limit = settings.checkout_limit_per_network_per_min
    if not account_limit and not network_limit:
        return None
    attempt = request_hash(f"{order.customer_id}:{order.key}")
    account, per_network, left_s = await storage.count_checkout(
        conn, attempt, order.customer_id, order.network if network_limit else None
    )
    breach = Velocity(
        account=account,
        network=per_network,
        account_limit=account_limit,
        network_limit=network_limit,
    ).breach()
    if breach is None:
        return None
    rule, attempts, limit = breach
    retry_after = max(1, math.ceil(left_s))
    decision_id = await storage.record_decision(
        conn,
        customer_id=order.customer_id,
        attempt=attempt,
        rule=rule,
        attempts=attempts,
        limit_per_min=limit,
        retry_after_s=retry_after,
    )
    return Refused(Reason.TOO_MANY, retry_after_s=retry_after, decision_id=decision_id)


async def _place(
    conn: DbConn, order: CheckoutOrder, cart_id: UUID | None, priced: PricedCart
) -> Placed:
    """Claim the key first: a concurrent or late duplicate always sees the first order.
    The network statistic is written last, in the same transaction, by a placed order only
    (its row is shared by every checkout from the network: locked for the commit only)."""
    order_id = uuid4()
    async with conn.transaction():
        # One round trip: the key claimed, the block looked up again (it may have arrived
        # meanwhile) and the cart locked against concurrent edits until the commit.
        claim = await storage.claim_key_check_block_lock_cart(
            conn, order.customer_id, order.key, order.body_hash, order_id, cart_id
        )
        if not claim.claimed:
            existing = await storage.find_checkout_key(conn, order.customer_id, order.key)
            assert existing is not None
            return _replay(existing, order.body_hash)
        _refuse_blocked(claim.blocked)
        await _check_cart_unchanged(conn, cart_id, priced)
        assert cart_id is not None
        placed = await place_order(
            conn,
            order_id,
            Checkout(order.customer_id, order.courier, order.payment_method, priced.lines),
        )
        await storage.empty_cart(conn, cart_id)
        if order.network is not None:
            await storage.record_network_checkout(conn, order.network, order.city, order.region)
    return Placed(placed.id, Status.PLACED.value, placed.order_ref, created=True)


async def _check_cart_unchanged(conn: DbConn, cart_id: UUID | None, priced: PricedCart) -> None:
    if cart_id is None or (not priced.lines and not priced.unavailable):
        raise Refused(Reason.CART_EMPTY)
    if priced.unavailable:
        raise Refused(Reason.PRODUCTS_UNAVAILABLE, product_ids=[str(p) for p in priced.unavailable])
    current = await storage.cart_items(conn, cart_id)  # after the lock: the lines as they are
    if sorted(current) != sorted((line.product_id, line.quantity) for line in priced.lines):
        raise Refused(Reason.CART_CHANGED)
