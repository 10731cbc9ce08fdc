"""Message handlers of the notifications service (queue ``notifications.events``).

Every event that makes a mail goes to the one ``Notifier`` (``notifier.py``), read off the
app when the message arrives (it is built once the pool and the HTTP client exist);
``CustomerErased`` unlinks the customer's delivery log and confirms (``erasure.py``);
``CustomerBlocked`` / ``CustomerUnblocked`` keep the customer's state in ``customer_blocks``
(``shared.blocking``), which the notifier asks before a mail that is not owed, and the newest
of them is confirmed to the customer by mail; ``PolicyPublished`` opens the notice of the new
version that ``policy_notices.py`` sends every active customer.
``PromotionEnded`` cancels the promotion's campaigns that are not finished.
"""

from __future__ import annotations

from aiohttp import web

from services.notifications import campaign_storage, erasure, policy_notices
from services.notifications.domain import CONSUMED_EVENTS
from services.notifications.keys import NOTIFIER
from shared import blocking
from shared.contracts import (
    Contract,
    CustomerBlockChanged,
    CustomerErased,
    PolicyPublished,
    PromotionEnded,
)
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import IncomingMeta
from shared.messaging.consumer import Handler

QUEUE = "notifications.events"
log = get_logger("notifications.messages")


async def on_policy_published(conn: DbConn, event: PolicyPublished, meta: IncomingMeta) -> None:
    await policy_notices.on_policy_published(conn, event)


async def on_customer_erased(conn: DbConn, event: CustomerErased, meta: IncomingMeta) -> None:
    done = await erasure.depersonalise(conn, event)
    log.info(
        "customer depersonalised",
        request_id=str(event.request_id),
        deliveries_unlinked=done.deliveries_unlinked,
    )


async def on_promotion_ended(conn: DbConn, event: PromotionEnded, meta: IncomingMeta) -> None:
    cancelled = await campaign_storage.end_for_promotion(conn, event.promotion_id)
    log.info("promotion ended", promotion_id=str(event.promotion_id), campaigns_cancelled=cancelled)


def event_handlers(app: web.Application) -> dict[type[Contract], Handler]:
    async def on_event(conn: DbConn, event: Contract, meta: IncomingMeta) -> None:
        await app[NOTIFIER].handle(conn, event, meta)

    async def on_block_changed(
        conn: DbConn, event: CustomerBlockChanged, meta: IncomingMeta
    ) -> None:
        """The newest state is kept, and confirmed to the customer; a stale event, neither."""
        if await blocking.record_block_change(conn, event):
            await app[NOTIFIER].handle(conn, event, meta)
        else:
            log.info("stale block state ignored", version=event.version)

    handlers: dict[type[Contract], Handler] = {model: on_event for model in CONSUMED_EVENTS}
    handlers[CustomerErased] = on_customer_erased
    handlers[PromotionEnded] = on_promotion_ended
    handlers[PolicyPublished] = on_policy_published
    for model in blocking.BLOCK_EVENTS:
        handlers[model] = on_block_changed
    return handlers
