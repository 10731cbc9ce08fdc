"""Erasure in notifications, the use case: on ``CustomerErased`` the customer's delivery log
is depersonalised (``data_map``: the rows stay until their retention, without the customer
id and without the release id, which is the key of the customers service's disclosure
register) and ``NotificationsDepersonalised`` confirms, quoting only the request id; the
customer's used unsubscribe links and suppressions go, and the published outbox bodies that
named the id (``MarketingUnsubscribed``, ``ContactSuppressed``) are wiped. A
delivery skipped later because the customer is gone is logged without the id (``domain``),
so a late event cannot bring the id back. Doing it twice unlinks nothing the second time.

``STEPS`` is one step per table of ``data_map.DATA_MAP`` that the erasure changes; a test
walks the map, so a new holding without a step fails.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping
from uuid import UUID

from services.notifications import campaign_storage, channel_storage, storage
from shared import blocking
from shared.contracts import CustomerErased, NotificationsDepersonalised
from shared.db import DbConn
from shared.messaging import enqueue
from shared.messaging.outbox import forget_mentions

Step = Callable[[DbConn, UUID], Awaitable[int]]


class EventsNotSentYet(Exception):
    """An event naming the customer (an unsubscribe, a suppression) still waits in the
    outbox: the erasure is retried once it is sent (its body is wiped then)."""


async def _wipe_outbox(conn: DbConn, customer_id: UUID) -> int:
    wiped, pending = await forget_mentions(conn, str(customer_id))
    if pending:
        raise EventsNotSentYet(f"{pending} outbox message(s) still to be sent")
    return wiped


STEPS: Mapping[str, Step] = {
    "outbox": _wipe_outbox,
    "deliveries": storage.unlink_deliveries_of,
    "campaigns": campaign_storage.move_cursor_off,  # after deliveries: their rows name nobody
    "customer_blocks": blocking.forget_customer,
    "suppressions": channel_storage.forget_suppressions_of,
    "unsubscribes": channel_storage.forget_unsubscribes_of,
}


async def depersonalise(conn: DbConn, event: CustomerErased) -> NotificationsDepersonalised:
    """Unlink the customer's delivery log and confirm, in the consumer's transaction."""
    counts = {table: await step(conn, event.customer_id) for table, step in STEPS.items()}
    confirmation = NotificationsDepersonalised(
        request_id=event.request_id, deliveries_unlinked=counts["deliveries"]
    )
    await enqueue(conn, confirmation, correlation_id=str(event.request_id))
    return confirmation
