"""Erasure in orders, the use case: what still defers it, and the depersonalisation.

Orders is the authority on the obligations that defer an erasure (Law 94-V art. 8(2)): an
order still in delivery (placed, awaiting payment, paid, dispatched) or a refund not yet
confirmed by the bank. The customers service asks for them before it shreds
(``GET /internal/customers/{id}/obligations``). Once it has shredded, ``CustomerErased``
makes orders remove the id: orders stay for accounting (totals, lines, statuses), unlinked;
the cart, the checkout keys, the account's velocity counters, its automated decisions and
its block state go; the retained outbox bodies that named the id are wiped.
``OrdersDepersonalised`` confirms it, quoting only the request id. Doing it twice changes
nothing the second time.

``STEPS`` is one step per table of ``data_map.DATA_MAP`` that the erasure changes, in the
order they run (a table reached ``via`` its parent follows the parent's step); a test walks
the map, so a new holding without a step fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from shared import blocking
from shared.contracts import CustomerErased, OrdersDepersonalised
from shared.db import DbConn
from shared.messaging import enqueue
from shared.messaging.outbox import forget_mentions

from . import storage

Step = Callable[[DbConn, UUID], Awaitable[int]]


async def _wipe_outbox(conn: DbConn, customer_id: UUID) -> int:
    wiped, pending = await forget_mentions(conn, str(customer_id))
    if pending:
        raise EventsNotSentYet(f"{pending} outbox message(s) still to be sent")
    return wiped


STEPS: tuple[tuple[str, Step], ...] = (
    ("outbox", _wipe_outbox),
    ("dispatches", storage.forget_release_ids),  # before the orders lose the customer id
    ("orders", storage.unlink_orders),
    ("carts", storage.delete_customer_carts),
    ("checkout_requests", storage.delete_checkout_keys),
    ("checkout_velocity", storage.delete_account_velocity),
    ("automated_decisions", storage.delete_customer_decisions),
    ("customer_blocks", blocking.forget_customer),
)


class ObligationsStillOpen(Exception):
    """An order of the customer is still open (one placed in the instant between the
    customers service's question and the end of their tokens): orders waits, the message is
    retried (and announced again by customers) until it ends. It does end: without the data
    the dispatch is refused and the order fails, a payment is refunded."""


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
    transaction); ``ObligationsStillOpen`` while an order of theirs is open,
    ``EventsNotSentYet`` while an event naming them is unpublished (both retried)."""
    if await storage.open_obligations(conn, event.customer_id):
        raise ObligationsStillOpen("an order of the erased customer is still open")
    counts = {table: await step(conn, event.customer_id) for table, step in STEPS}
    confirmation = OrdersDepersonalised(
        request_id=event.request_id,
        orders_unlinked=counts["orders"],
        carts_deleted=counts["carts"],
    )
    await enqueue(conn, confirmation, correlation_id=str(event.request_id))
    return confirmation
