"""HTTP handlers of the orders service: parse, call domain and storage, answer."""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, Literal
from uuid import UUID, uuid4

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, StrictInt

from shared.auth import require_customer, require_internal
from shared.db import PG_POOL, DbConn
from shared.http import Problem, json_response, problem_response, query_model, read_json
from shared.service import HTTP_CLIENT
from shared.signing import SignatureError, verify

from . import carts, storage
from .catalog import fetch_products
from .config import Settings
from .domain import (
    MAX_CART_LINES,
    MAX_QUANTITY,
    CatalogProduct,
    Cursor,
    IllegalTransition,
    PricedCart,
    Status,
    Trigger,
    Velocity,
    client_network,
    coarse_place,
    decode_cursor,
    encode_cursor,
    money,
    price_cart,
    request_hash,
    valid_idempotency_key,
)
from .workflow import (
    Checkout,
    apply_trigger,
    order_documents,
    order_summary,
    place_order,
)

SETTINGS = web.AppKey("orders_settings", Settings)
IDEMPOTENCY_HEADER = "Idempotency-Key"


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class AddItem(_Body):
    product_id: UUID
    quantity: StrictInt = Field(ge=1, le=MAX_QUANTITY)


class Delivery(_Body):
    courier: str = Field(min_length=1, max_length=64)


class Payment(_Body):
    method: Literal["card", "cash_on_delivery"]


class CheckoutBody(_Body):
    delivery: Delivery
    payment: Payment


class ListQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=20, ge=1, le=100)
    cursor: str | None = Field(default=None, max_length=200)


class CourierCallback(_Body):
    event_id: UUID
    dispatch_id: UUID
    status: Literal["delivered", "failed"]


def _pool(request: web.Request) -> asyncpg.Pool:
    return request.app[PG_POOL]


def _settings(request: web.Request) -> Settings:
    return request.app[SETTINGS]


async def _products(request: web.Request, ids: set[UUID]) -> dict[UUID, CatalogProduct]:
    settings = _settings(request)
    return await fetch_products(
        request.app[HTTP_CLIENT],
        settings.catalog_url,
        settings.internal_token.get_secret_value(),
        ids,
    )


def _path_uuid(request: web.Request, name: str) -> UUID:
    try:
        return UUID(request.match_info[name])
    except ValueError:
        raise Problem(404, "Not found", "No such resource.") from None


# --- cart -------------------------------------------------------------------------------


def _cart_document(cart: PricedCart) -> dict[str, Any]:
    return {
        "items": [
            {
                "product_id": str(line.product_id),
                "name": line.name,
                "quantity": line.quantity,
                "price": money(line.unit_price),
                "line_total": money(line.line_total),
            }
            for line in cart.lines
        ],
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
    products = dict(known or {})
    missing = {product_id for product_id, _ in items} - products.keys()
    products.update(await _products(request, missing))
    return json_response(_cart_document(price_cart(items, products)))


async def get_cart(request: web.Request) -> web.Response:
    async with _pool(request).acquire() as conn, conn.transaction():
        ref = await carts.resolve_cart(conn, request, create=False)
        items = await storage.cart_items(conn, ref.cart_id) if ref.cart_id else []
    response = await _cart_response(request, items)
    carts.apply_cookie(response, ref, _settings(request))
    return response


async def add_cart_item(request: web.Request) -> web.Response:
    body = await read_json(request, AddItem)
    product = await _products(request, {body.product_id})
    if body.product_id not in product:
        raise Problem(404, "Unknown product", "The catalog has no such product.")
    async with _pool(request).acquire() as conn, conn.transaction():
        ref = await carts.resolve_cart(conn, request, create=True)
        assert ref.cart_id is not None
        await _add_item(conn, ref.cart_id, body)
        items = await storage.cart_items(conn, ref.cart_id)
    response = await _cart_response(request, items, known=product)
    carts.apply_cookie(response, ref, _settings(request))
    return response


async def _add_item(conn: DbConn, cart_id: UUID, body: AddItem) -> None:
    items = dict(await storage.cart_items(conn, cart_id))
    if body.product_id not in items and len(items) >= MAX_CART_LINES:
        raise Problem(422, "Cart is full", f"A cart holds at most {MAX_CART_LINES} products.")
    added = await storage.add_cart_item(conn, cart_id, body.product_id, body.quantity, MAX_QUANTITY)
    if added is None:
        raise Problem(422, "Too many units", f"At most {MAX_QUANTITY} units of one product.")


async def remove_cart_item(request: web.Request) -> web.Response:
    product_id = _path_uuid(request, "product_id")
    async with _pool(request).acquire() as conn, conn.transaction():
        ref = await carts.resolve_cart(conn, request, create=False)
        removed = ref.cart_id is not None and await storage.remove_cart_item(
            conn, ref.cart_id, product_id
        )
        items = await storage.cart_items(conn, ref.cart_id) if ref.cart_id else []
    if not removed:
        raise Problem(404, "Not in cart", "This product is not in the cart.")
    response = await _cart_response(request, items)
    carts.apply_cookie(response, ref, _settings(request))
    return response


# --- checkout ---------------------------------------------------------------------------


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
    """The client's network: X-Real-IP as nginx sets it, else the peer; cut to /24 or /48."""
    return client_network(request.headers.get("X-Real-IP") or request.remote)


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
    settings = _settings(request)
    key = _idempotency_key(request)
    body = await read_json(request, CheckoutBody)
    if body.delivery.courier not in settings.couriers:
        raise Problem(422, "Unknown courier", "Choose one of the offered couriers.")
    _check_payment_method(settings, body)
    body_hash = request_hash(body.model_dump_json())
    network = _client_network(request)
    async with _pool(request).acquire() as conn:
        async with conn.transaction():
            existing = await storage.find_checkout_key(conn, customer_id, key)
            if existing is not None:
                return _replay(existing, body_hash)
            ref = await carts.resolve_cart(conn, request, create=False)
            items = await storage.cart_items(conn, ref.cart_id) if ref.cart_id else []
            # Last: the counters are rows shared by a network, locked until the commit.
            refusal = await _velocity_refusal(conn, settings, customer_id, key, network)
            if refusal is not None:
                return refusal  # the attempt is counted: the transaction commits
        priced = price_cart(items, await _products(request, {p for p, _ in items}))
        if body.payment.method == "card" and priced.lines and priced.total == 0:
            # A bank takes no payment of nothing; such an order goes as cash on delivery.
            raise Problem(
                422, "Nothing to pay by card", "This order costs nothing: choose cash on delivery."
            )
        placing = Placing(customer_id, key, body, body_hash, ref.cart_id, priced)
        response = await _place(conn, placing, _network_checkout(request, network))
    carts.apply_cookie(response, ref, settings)
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


# --- orders -----------------------------------------------------------------------------


async def list_orders(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    query = query_model(request, ListQuery)
    after = decode_cursor(query.cursor) if query.cursor else None
    if query.cursor and after is None:
        raise Problem(422, "Invalid cursor", "Use the next_cursor of a previous page.")
    async with _pool(request).acquire() as conn:
        rows = await storage.customer_orders(conn, customer_id, query.limit + 1, after)
    page, more = rows[: query.limit], len(rows) > query.limit
    next_cursor = encode_cursor(Cursor(page[-1]["created_at"], page[-1]["id"])) if more else None
    return json_response({"items": [order_summary(r) for r in page], "next_cursor": next_cursor})


async def get_order(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    order_id = _path_uuid(request, "order_id")
    async with _pool(request).acquire() as conn:
        row = await storage.customer_order(conn, customer_id, order_id)
        if row is None:
            raise Problem(404, "Not found", "No such order.")
        documents = await order_documents(conn, [row], _settings(request).bank_public_url)
    return json_response(documents[0])


async def cancel_order(request: web.Request) -> web.Response:
    customer_id = require_customer(request)
    order_id = _path_uuid(request, "order_id")
    async with _pool(request).acquire() as conn, conn.transaction():
        row = await storage.customer_order(conn, customer_id, order_id)
        if row is None:
            raise Problem(404, "Not found", "No such order.")
        if row["status"] != Status.CANCELLED.value:
            await _cancel(conn, order_id, _settings(request))
    return json_response(
        {"id": str(order_id), "status": Status.CANCELLED.value, "order_ref": row["order_ref"]}
    )


async def _cancel(conn: DbConn, order_id: UUID, settings: Settings) -> None:
    """Placed, awaiting payment or paid: cancelled (a requested dispatch is cancelled with
    the courier, a paid card order refunded). Dispatched or finished: 409."""
    try:
        await apply_trigger(conn, order_id, Trigger.CUSTOMER_CANCELLED, settings)
    except IllegalTransition as exc:
        if exc.status is Status.CANCELLED:  # a concurrent cancel came first
            return
        raise Problem(
            409, "Too late to cancel", "The order is already with the courier or finished."
        ) from None


# --- courier callbacks ------------------------------------------------------------------


def _courier_secret(request: web.Request, courier: str) -> str:
    settings = _settings(request)
    secret = settings.courier_secrets.get(courier)
    if courier not in settings.couriers or secret is None:
        raise Problem(404, "Unknown courier", "No such courier.")
    return secret.get_secret_value()


async def courier_callback(request: web.Request) -> web.Response:
    courier = request.match_info["courier"]
    secret = _courier_secret(request, courier)
    raw = await request.read()
    try:
        verify(secret, request.headers, raw, max_age_s=_settings(request).callback_max_age_s)
    except SignatureError:
        raise Problem(401, "Bad signature", "The callback is unsigned, forged or stale.") from None
    body = await read_json(request, CourierCallback)
    async with _pool(request).acquire() as conn, conn.transaction():
        result = await _apply_callback(conn, courier, body, _settings(request))
    return json_response({"result": result})


async def _apply_callback(
    conn: DbConn, courier: str, body: CourierCallback, settings: Settings
) -> str:
    dispatch = await storage.get_dispatch(conn, body.dispatch_id)
    if dispatch is None or dispatch["courier"] != courier:
        raise Problem(404, "Unknown dispatch", "No such dispatch for this courier.")
    if not await storage.record_courier_callback(
        conn, courier, body.event_id, body.dispatch_id, body.status
    ):
        return "duplicate"
    trigger = Trigger.COURIER_DELIVERED if body.status == "delivered" else Trigger.COURIER_FAILED
    try:
        await apply_trigger(conn, dispatch["order_id"], trigger, settings)
    except IllegalTransition as exc:
        if exc.status.value == body.status:
            return "duplicate"
        if exc.status is Status.CANCELLED:
            raise Problem(
                409, "Dispatch cancelled", "The order was cancelled: do not deliver it."
            ) from None
        raise Problem(
            409, "Status does not apply", f"The order is {exc.status.value}; not changed."
        ) from None
    await storage.set_dispatch_status(conn, body.dispatch_id, body.status)
    return "applied"


# --- internal ---------------------------------------------------------------------------


async def export_customer(request: web.Request) -> web.Response:
    require_internal(request, _settings(request).internal_token.get_secret_value())
    customer_id = _path_uuid(request, "customer_id")
    async with _pool(request).acquire() as conn:
        rows = await storage.all_customer_orders(conn, customer_id)
        documents = await order_documents(conn, rows, _settings(request).bank_public_url)
        cart_id = await storage.customer_cart(conn, customer_id)
        items = await storage.cart_items(conn, cart_id) if cart_id else []
    cart = [{"product_id": str(p), "quantity": q} for p, q in items]
    return json_response({"orders": documents, "cart": {"items": cart}})
