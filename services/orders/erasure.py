"""Erasure in orders, the use case: what still defers it, and the depersonalisation.

Orders is the authority on the obligations that defer an erasure (Law 94-V art. 8(2)): an
order still in delivery (placed, awaiting payment, paid, dispatched) or a refund not yet
confirmed by the bank. The customers service asks for them before it shreds
(``GET /internal/customers/{id}/obligations``). Once it has shredded, ``CustomerErased``
makes orders remove the id: orders stay for accounting (totals, lines, statuses), unlinked;
the cart, the checkout keys and the account's velocity counters go; the retained outbox
bodies that named the id are wiped. ``OrdersDepersonalised`` confirms it, quoting only the
request id. Doing it twice changes nothing the second time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared.contracts import CustomerErased, OrdersDepersonalised
from shared.db import DbConn
from shared.messaging import enqueue
from shared.messaging.outbox import forget_mentions

from . import storage


class EventsNotSentYet(Exception):
    """An event naming the customer still waits in the outbox: try again once it is sent
    (its body is wiped then), so no retained row keeps the id."""


@dataclass(frozen=True)
class Obligation:
    kind: str  # "order" (in delivery) or "refund" (a refund the bank has not confirmed)
    order_ref: str
    status: str

    def item(self) -> dict[str, Any]:
        return {"kind": self.kind, "order_ref": self.order_ref, "status": self.status}


async def open_obligations(conn: DbConn, customer_id: UUID) -> list[Obligation]:
    rows = await storage.open_obligations(conn, customer_id)
    return [Obligation(row["kind"], row["order_ref"], row["status"]) for row in rows]


async def depersonalise(conn: DbConn, event: CustomerErased) -> OrdersDepersonalised:
    """Remove the customer's id from every orders table and confirm (in the consumer's
    transaction); ``EventsNotSentYet`` while an event naming the customer is unpublished."""
    customer_id = event.customer_id
    _, pending = await forget_mentions(conn, str(customer_id))
    if pending:
        raise EventsNotSentYet(f"{pending} outbox message(s) still to be sent")
    unlinked = await storage.unlink_orders(conn, customer_id)
    carts = await storage.delete_customer_carts(conn, customer_id)
    await storage.delete_checkout_traces(conn, customer_id)
    confirmation = OrdersDepersonalised(
        request_id=event.request_id, orders_unlinked=unlinked, carts_deleted=carts
    )
    await enqueue(conn, confirmation, correlation_id=str(event.request_id))
    return confirmation
