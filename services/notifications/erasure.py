"""Erasure in notifications, the use case: on ``CustomerErased`` the customer's delivery log
goes (it served to send each mail once and to show it in the export; nothing is owed on
it) and ``NotificationsDepersonalised`` confirms, quoting only the request id. A delivery
skipped later because the customer is gone is logged without the id (``domain``), so a
late event cannot bring the id back. Doing it twice deletes nothing the second time."""

from __future__ import annotations

from services.notifications import storage
from shared.contracts import CustomerErased, NotificationsDepersonalised
from shared.db import DbConn
from shared.messaging import enqueue


async def depersonalise(conn: DbConn, event: CustomerErased) -> NotificationsDepersonalised:
    """Delete the delivery log of the customer and confirm, in the consumer's transaction."""
    deleted = await storage.delete_deliveries_of(conn, event.customer_id)
    confirmation = NotificationsDepersonalised(
        request_id=event.request_id, deliveries_deleted=deleted
    )
    await enqueue(conn, confirmation, correlation_id=str(event.request_id))
    return confirmation
