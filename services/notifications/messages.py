"""Message handlers of the notifications service (queue ``notifications.events``).

Every consumed event goes to the one ``Notifier`` (``notifier.py``), read off the app when
the message arrives (it is built once the pool and the HTTP client exist).
"""

from __future__ import annotations

from aiohttp import web

from services.notifications.domain import CONSUMED_EVENTS
from services.notifications.keys import NOTIFIER
from shared.contracts import Contract
from shared.db import DbConn
from shared.messaging import IncomingMeta
from shared.messaging.consumer import Handler

QUEUE = "notifications.events"


def event_handlers(app: web.Application) -> dict[type[Contract], Handler]:
    async def on_event(conn: DbConn, event: Contract, meta: IncomingMeta) -> None:
        await app[NOTIFIER].handle(conn, event, meta)

    return {model: on_event for model in CONSUMED_EVENTS}
