"""Erasure's rows: closing the account, destroying its traces, and the progress of the
request (``erasures``, ``erasure_confirmations``). Ids, codes and times only."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from uuid import UUID

import asyncpg

from shared.db import DbConn

# --- Closing the account (at the request) --------------------------------------------------


async def close_customer(conn: DbConn, customer_id: UUID) -> bool:
    """The account no longer signs in: status 'erased', no password hash, no blind indexes
    (the email and phone are free again). False when it was already erased or unknown."""
    closed = await conn.fetchval(
        "UPDATE customers SET status = 'erased', password_hash = NULL, email_index = NULL,"
        " phone_index = NULL, updated_at = now() WHERE id = $1 AND status <> 'erased'"
        " RETURNING true",
        customer_id,
    )
    return bool(closed)


async def delete_refresh_sessions(conn: DbConn, customer_id: UUID) -> int:
    result: str = await conn.execute(
        "DELETE FROM refresh_sessions WHERE customer_id = $1", customer_id
    )
    return int(result.split()[-1])


async def delete_web_sessions(conn: DbConn, customer_id: UUID) -> int:
    result: str = await conn.execute("DELETE FROM web_sessions WHERE customer_id = $1", customer_id)
    return int(result.split()[-1])


# --- Shredding (once nothing is open) ------------------------------------------------------


async def delete_all_fields(conn: DbConn, customer_id: UUID) -> int:
    """The sealed PD fields themselves (unreadable already without the data key)."""
    result: str = await conn.execute("DELETE FROM customer_pd WHERE customer_id = $1", customer_id)
    return int(result.split()[-1])


async def forget_request_details(conn: DbConn, customer_id: UUID) -> int:
    """The customer's own words in their requests (sealed under the shredded data key); the
    requests themselves stay as evidence."""
    result: str = await conn.execute(
        "UPDATE subject_requests SET detail = NULL, updated_at = now()"
        " WHERE customer_id = $1 AND detail IS NOT NULL",
        customer_id,
    )
    return int(result.split()[-1])


async def forget_password_failures(conn: DbConn, customer_id: UUID) -> int:
    """Failed password confirmations counted by the customer id."""
    result: str = await conn.execute(
        "DELETE FROM login_backoff WHERE realm = 'password' AND account = $1", customer_id.bytes
    )
    return int(result.split()[-1])


# --- The request's progress ----------------------------------------------------------------


@dataclass(frozen=True)
class ErasureRow:
    request_id: UUID
    customer_id: UUID
    state: str
    reason: str | None
    open_orders: tuple[str, ...]
    next_check_at: datetime | None
    checks: int
    shredded_at: datetime | None
    completed_at: datetime | None
    confirmed: tuple[str, ...]


_SELECT = (
    "SELECT e.request_id, e.customer_id, e.state, e.reason, e.open_orders, e.next_check_at,"
    " e.checks, e.shredded_at, e.completed_at,"
    " coalesce((SELECT array_agg(c.service ORDER BY c.service) FROM erasure_confirmations c"
    "  WHERE c.request_id = e.request_id), '{}') AS confirmed FROM erasures e"
)


def _row(record: asyncpg.Record | None) -> ErasureRow | None:
    if record is None:
        return None
    values = dict(record)
    values["open_orders"] = tuple(values["open_orders"])
    values["confirmed"] = tuple(values["confirmed"])
    return ErasureRow(**values)


async def insert_erasure(conn: DbConn, request_id: UUID, customer_id: UUID) -> None:
    """A new erasure, to be checked at once (``reason`` 'checking' until orders answers)."""
    await conn.execute(
        "INSERT INTO erasures (request_id, customer_id, reason, next_check_at)"
        " VALUES ($1, $2, 'checking', now())",
        request_id,
        customer_id,
    )


async def get_erasure(conn: DbConn, request_id: UUID, *, lock: bool = False) -> ErasureRow | None:
    if lock:
        await conn.execute("SELECT 1 FROM erasures WHERE request_id = $1 FOR UPDATE", request_id)
    return _row(await conn.fetchrow(f"{_SELECT} WHERE e.request_id = $1", request_id))


async def erasure_of(conn: DbConn, customer_id: UUID) -> ErasureRow | None:
    return _row(await conn.fetchrow(f"{_SELECT} WHERE e.customer_id = $1", customer_id))


async def defer_erasure(
    conn: DbConn, request_id: UUID, reason: str, open_orders: Sequence[str], recheck_s: float
) -> None:
    await conn.execute(
        "UPDATE erasures SET reason = $2, open_orders = $3, checks = checks + 1,"
        " next_check_at = now() + $4::interval WHERE request_id = $1",
        request_id,
        reason,
        list(open_orders),
        timedelta(seconds=recheck_s),
    )


async def mark_shredded(conn: DbConn, request_id: UUID, resend_s: float) -> None:
    """Shredded; ``next_check_at`` is when to announce it again if a confirmation is still
    missing then."""
    await conn.execute(
        "UPDATE erasures SET state = 'shredded', open_orders = '{}', checks = checks + 1,"
        " next_check_at = now() + $2::interval, shredded_at = now() WHERE request_id = $1",
        request_id,
        timedelta(seconds=resend_s),
    )


async def unconfirmed_to_resend(conn: DbConn, limit: int, resend_s: float) -> list[asyncpg.Record]:
    """Shredded erasures whose confirmations are still missing at ``next_check_at``, moved on
    to the next round (claimed: another replica skips them)."""
    rows: list[asyncpg.Record] = await conn.fetch(
        "UPDATE erasures SET next_check_at = now() + $2::interval WHERE request_id IN"
        " (SELECT request_id FROM erasures WHERE state = 'shredded' AND next_check_at <= now()"
        "  ORDER BY next_check_at LIMIT $1 FOR UPDATE SKIP LOCKED)"
        " RETURNING request_id, customer_id, shredded_at",
        limit,
        timedelta(seconds=resend_s),
    )
    return rows


async def record_confirmation(
    conn: DbConn, request_id: UUID, service: str, counts: dict[str, Any]
) -> bool:
    """False when this service had confirmed already (a redelivery) or the request is not
    an erasure of ours."""
    done = await conn.fetchval(
        "INSERT INTO erasure_confirmations (request_id, service, counts)"
        " SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM erasures WHERE request_id = $1)"
        " ON CONFLICT DO NOTHING RETURNING true",
        request_id,
        service,
        counts,
    )
    return bool(done)


async def mark_completed(conn: DbConn, request_id: UUID) -> bool:
    done = await conn.fetchval(
        "UPDATE erasures SET state = 'completed', completed_at = now()"
        " WHERE request_id = $1 AND state = 'shredded' RETURNING true",
        request_id,
    )
    return bool(done)


async def erasures_to_check(conn: DbConn, limit: int) -> list[UUID]:
    rows = await conn.fetch(
        "SELECT request_id FROM erasures WHERE state = 'deferred' AND next_check_at <= now()"
        " ORDER BY next_check_at LIMIT $1",
        limit,
    )
    return [row["request_id"] for row in rows]


async def check_soon(conn: DbConn, customer_id: UUID | None = None) -> int:
    """An order event came: check the customer's deferred erasure (or, without a customer,
    every one deferred by a refund or the check itself) at the next round."""
    result: str = await conn.execute(
        "UPDATE erasures SET next_check_at = now() WHERE state = 'deferred'"
        " AND (customer_id = $1 OR ($1::uuid IS NULL AND reason IN ('open_refund', 'checking')))",
        customer_id,
    )
    return int(result.split()[-1])
