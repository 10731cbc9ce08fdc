"""What a service other than customers knows of blocking: the customer ids and their state.

The customers service owns blocking (Law 94-V art. 1: a temporary stop of processing at the
subject's request) and announces every change as ``CustomerBlocked`` / ``CustomerUnblocked``
with a version that grows by one per change. A service that must enforce it (orders refuses a
new checkout, notifications sends nothing that is not owed) keeps the latest state per
customer in its own ``customer_blocks`` table (each service's migration creates it, the same
columns everywhere) and asks it where it decides.

The row of an unblocked customer stays (``blocked`` false) with its version: a late
``CustomerBlocked`` of an older version must not block again. Applying an event is one upsert
that only moves forward, so redelivery and any arrival order end in the newest state.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

from shared.contracts import Contract, CustomerBlockChanged, CustomerBlocked, CustomerUnblocked
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import IncomingMeta
from shared.messaging.consumer import Handler

BLOCK_EVENTS: tuple[type[CustomerBlockChanged], ...] = (CustomerBlocked, CustomerUnblocked)

# ``is_blocked`` as an SQL expression, for a statement that asks it beside other things;
# ``{customer}`` is the placeholder of the customer id (``$1``).
BLOCKED_EXPRESSION = (
    "EXISTS (SELECT 1 FROM customer_blocks WHERE customer_id = {customer} AND blocked)"
)
log = get_logger("shared.blocking")


@dataclass(frozen=True)
class BlockState:
    blocked: bool
    version: int
    since: datetime  # when the latest change took effect (the block's time while blocked)


async def record_block_change(conn: DbConn, event: CustomerBlockChanged) -> bool:
    """Keep the event's state unless a newer (or the same) version is already known; True
    when it was applied."""
    applied = await conn.fetchval(
        "INSERT INTO customer_blocks AS b (customer_id, blocked, version, changed_at)"
        " VALUES ($1, $2, $3, $4)"
        " ON CONFLICT (customer_id) DO UPDATE SET blocked = EXCLUDED.blocked,"
        "   version = EXCLUDED.version, changed_at = EXCLUDED.changed_at, recorded_at = now()"
        " WHERE b.version < EXCLUDED.version"
        " RETURNING true",
        event.customer_id,
        event.BLOCKED,
        event.version,
        event.at,
    )
    return bool(applied)


async def block_state(conn: DbConn, customer_id: UUID) -> BlockState | None:
    """The latest known state, or None for a customer never blocked."""
    row = await conn.fetchrow(
        "SELECT blocked, version, changed_at FROM customer_blocks WHERE customer_id = $1",
        customer_id,
    )
    return BlockState(row["blocked"], row["version"], row["changed_at"]) if row else None


async def is_blocked(conn: DbConn, customer_id: UUID) -> bool:
    found = await conn.fetchval(
        "SELECT blocked FROM customer_blocks WHERE customer_id = $1", customer_id
    )
    return bool(found)


async def forget_customer(conn: DbConn, customer_id: UUID) -> int:
    """The erasure's step: the customer's row goes (an erased customer is never blocked or
    unblocked again); the number of rows deleted."""
    result: str = await conn.execute(
        "DELETE FROM customer_blocks WHERE customer_id = $1", customer_id
    )
    return int(result.split()[-1])


async def on_block_changed(conn: DbConn, event: CustomerBlockChanged, meta: IncomingMeta) -> None:
    """The consumer handler for both events (in the inbox transaction)."""
    applied = await record_block_change(conn, event)
    log.info(
        "customer block state" if applied else "stale block state ignored",
        customer_id=str(event.customer_id),
        blocked=event.BLOCKED,
        version=event.version,
    )


def block_handlers() -> dict[type[Contract], Handler]:
    """The handlers to merge into a service's ``event_handlers`` (its queue is then bound to
    both routing keys)."""
    return {model: on_block_changed for model in BLOCK_EVENTS}


async def blocked_among(conn: DbConn, customer_ids: list[UUID]) -> set[UUID]:
    """Those of ``customer_ids`` blocked now (a batch's check, one query)."""
    rows = await conn.fetch(
        "SELECT customer_id FROM customer_blocks WHERE blocked AND customer_id = ANY($1::uuid[])",
        customer_ids,
    )
    return {row["customer_id"] for row in rows}
