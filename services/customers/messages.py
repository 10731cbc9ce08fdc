"""Message handlers of the customers service (queue ``customers.events``).

``DispatchRequested`` -> release the delivery projection to the courier, publish the
``DispatchMessage`` on ``shop.dispatch`` (outbox body sealed) and ``DispatchReleased``; or
``DispatchRefused`` when no release is possible (unknown courier, customer erased, order
already cancelled, customer blocked: unless the order was placed before the block, an open
obligation that is still delivered, see ``domain.placed_before_block``; a courier abroad
without the customer's consent to transfers abroad: ``transfer_abroad_not_allowed``).
``OrderCancelled`` -> remember the order, so a dispatch request that arrives later releases
nothing.
Erasure: an order that ends (delivered, cancelled, failed) or a refund that closes brings the
check of a deferred erasure forward (the chore asks orders then); ``OrdersDepersonalised``
and ``NotificationsDepersonalised`` are the confirmations that complete one
(``erasure.confirm``). ``MarketingUnsubscribed`` (an unsubscribe link, a STOP by SMS) withdraws
that channel's marketing consent with its source; ``ContactSuppressed`` keeps marketing off a
contact a provider refused for good (``opt_outs.py``). All in the handler's transaction.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from shared.contracts import (
    ContactSuppressed,
    Contract,
    DispatchAddress,
    DispatchMessage,
    DispatchRecipient,
    DispatchRefused,
    DispatchReleased,
    DispatchRequested,
    MarketingUnsubscribed,
    NotificationsDepersonalised,
    OrderCancelled,
    OrderDelivered,
    OrderFailed,
    OrdersDepersonalised,
    OrderStatusChanged,
    PaymentRefunded,
)
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import DISPATCH_EXCHANGE, BodyCipher, IncomingMeta, enqueue
from shared.messaging.consumer import Handler
from shared.messaging.topology import courier_routing_key

from . import erasure, opt_outs, storage
from .domain import TransferAbroadNotAllowed
from .keys import ACCOUNTS, SETTINGS
from .personal_data import CustomerBlocked, CustomerUnavailable, PdGate, Release

QUEUE = "customers.events"
log = get_logger("customers.messages")


def dispatch_message(event: DispatchRequested, release: Release) -> DispatchMessage:
    """The courier's message: the contract's fields and nothing more."""
    address: dict[str, Any] = release.fields["delivery_address"]
    return DispatchMessage(
        dispatch_id=event.dispatch_id,
        order_ref=event.order_ref,
        courier=event.courier,
        parcel=event.parcel,
        cash_on_delivery=event.cash_on_delivery,
        recipient=DispatchRecipient(
            name=release.fields["recipient_name"], phone=release.fields["phone"]
        ),
        address=DispatchAddress(
            city=address["city"],
            street=address["street"],
            house=address["house"],
            apartment=address.get("apartment"),
            postal_code=address.get("postal_code"),
            comment=address.get("comment"),
        ),
        release_id=release.release_id,
    )


async def refuse(conn: DbConn, event: DispatchRequested, reason: str) -> None:
    log.info("dispatch refused", dispatch_id=str(event.dispatch_id), reason=reason)
    await enqueue(
        conn,
        DispatchRefused(dispatch_id=event.dispatch_id, order_id=event.order_id, reason=reason),
        correlation_id=str(event.order_id),
    )


async def release_for_dispatch(
    conn: DbConn,
    event: DispatchRequested,
    gate: PdGate,
    cipher: BodyCipher,
    couriers: tuple[str, ...],
) -> None:
    """Release the delivery projection to the courier, or refuse the dispatch request."""
    if event.courier not in couriers:
        await refuse(conn, event, "unknown_courier")
        return
    if await storage.order_cancelled(conn, event.order_id):
        await refuse(conn, event, "order_cancelled")
        return
    try:
        release = await gate.release(
            conn,
            event.customer_id,
            purpose="delivery",
            kind="courier",
            recipient=f"courier:{event.courier}",
            actor="system:dispatch",
            order_ref=event.order_ref,
            order_placed_at=event.placed_at,
        )
    except CustomerBlocked:
        await refuse(conn, event, "customer_blocked")
        return
    except CustomerUnavailable:
        await refuse(conn, event, "customer_unavailable")
        return
    except TransferAbroadNotAllowed:
        await refuse(conn, event, "transfer_abroad_not_allowed")
        return
    await enqueue(
        conn,
        dispatch_message(event, release),
        exchange=DISPATCH_EXCHANGE,
        routing_key=courier_routing_key(event.courier),
        correlation_id=str(event.order_id),
        cipher=cipher,
    )
    await enqueue(
        conn,
        DispatchReleased(
            dispatch_id=event.dispatch_id,
            order_id=event.order_id,
            release_id=release.release_id,
            courier=event.courier,
        ),
        correlation_id=str(event.order_id),
    )
    log.info("dispatch released", dispatch_id=str(event.dispatch_id))


async def on_order_cancelled(conn: DbConn, event: OrderCancelled, meta: IncomingMeta) -> None:
    await storage.remember_cancelled_order(conn, event.order_id)
    await on_order_ended(conn, event, meta)


async def on_order_ended(conn: DbConn, event: OrderStatusChanged, meta: IncomingMeta) -> None:
    """An order of the customer ended: a deferred erasure of theirs is checked next round."""
    await storage.check_soon(conn, event.customer_id)


async def on_refund_closed(conn: DbConn, event: PaymentRefunded, meta: IncomingMeta) -> None:
    """The event names no customer: erasures waiting on a refund are checked next round."""
    await storage.check_soon(conn)


async def on_orders_confirmed(
    conn: DbConn, event: OrdersDepersonalised, meta: IncomingMeta
) -> None:
    counts = {"orders_unlinked": event.orders_unlinked, "carts_deleted": event.carts_deleted}
    await _confirmed(conn, event.request_id, "orders", counts)


async def on_notifications_confirmed(
    conn: DbConn, event: NotificationsDepersonalised, meta: IncomingMeta
) -> None:
    counts = {"deliveries_unlinked": event.deliveries_unlinked}
    await _confirmed(conn, event.request_id, "notifications", counts)


async def _confirmed(conn: DbConn, request_id: UUID, service: str, counts: dict[str, int]) -> None:
    completed = await erasure.confirm(conn, request_id, service, counts)
    log.info("erasure confirmed", request_id=str(request_id), service=service, completed=completed)


async def on_marketing_unsubscribed(
    conn: DbConn, event: MarketingUnsubscribed, meta: IncomingMeta
) -> None:
    await opt_outs.withdraw_marketing(conn, event.customer_id, event.channel, event.via, event.at)


async def on_contact_suppressed(conn: DbConn, event: ContactSuppressed, meta: IncomingMeta) -> None:
    await opt_outs.suppress(conn, event)


def event_handlers(app: web.Application) -> dict[type[Contract], Handler]:
    """The consumer's handlers; each reads the accounts and settings off the app when called."""

    async def on_dispatch_requested(
        conn: DbConn, event: DispatchRequested, meta: IncomingMeta
    ) -> None:
        accounts = app[ACCOUNTS]
        # A savepoint in the consumer's transaction: the release is counted once the whole
        # handler has succeeded, not if it fails after writing it (only the inbox commit,
        # in shared.messaging, comes after).
        async with accounts.gate.transaction(conn):
            await release_for_dispatch(
                conn, event, accounts.gate, accounts.vault.outbox_cipher, app[SETTINGS].couriers
            )

    return {
        DispatchRequested: on_dispatch_requested,
        OrderCancelled: on_order_cancelled,
        OrderDelivered: on_order_ended,
        OrderFailed: on_order_ended,
        PaymentRefunded: on_refund_closed,
        OrdersDepersonalised: on_orders_confirmed,
        NotificationsDepersonalised: on_notifications_confirmed,
        MarketingUnsubscribed: on_marketing_unsubscribed,
        ContactSuppressed: on_contact_suppressed,
    }
