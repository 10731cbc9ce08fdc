"""The erasure's baseline: the same database work as one erasure in the shop, as bare asyncpg
transactions run from one process, for ``bench.customer_erasure``.

One erasure is, in order: the customers service's request (the password's hash read, the
throttle's counters, the account closed, sessions ended and revoked, the request filed with
its erasure row, the revocation announced), orders' answer on the obligations still open, the
shredding (data key and sealed fields destroyed, the request's words forgotten, the erasure
marked, ``CustomerErased`` written to the outbox); then, at the same time, orders (the
retained outbox bodies naming the customer wiped, orders unlinked, carts and checkout traces
deleted, the confirmation written) and notifications (the delivery log unlinked, the
confirmation written), each with its inbox row; last the two confirmations recorded in
customers and the request completed. Statements as the shop's storage writes them
(``services/*/storage/erasure.py``, ``shared/messaging``); no Python between them but the
driver. The argon2 verify and the message hops are measured apart (``customer_erasure``).
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Awaitable
from uuid import UUID, uuid4

import asyncpg

from shared.db import DbConn

# A small JSON body for the outbox rows (what the relay publishes).
_BODY = b'{"request_id": "00000000-0000-0000-0000-000000000000", "count": 0}'


async def _outbox(conn: DbConn, message_type: str, body: bytes = _BODY) -> None:
    await conn.execute(
        "WITH added AS (INSERT INTO outbox (message_id, exchange, routing_key, message_type,"
        " body) VALUES ($1, 'shop.events', $2, $2, $3)) SELECT pg_notify('shop_outbox', '')",
        uuid4(),
        message_type,
        body,
    )


async def _inbox(conn: DbConn, consumer: str, message_type: str) -> None:
    await conn.execute(
        "INSERT INTO inbox (consumer, message_id, message_type) VALUES ($1, $2, $3)",
        consumer,
        uuid4(),
        message_type,
    )


_ERASURE_ROW = (
    "SELECT e.request_id, e.customer_id, e.state, e.reason, e.open_orders, e.next_check_at,"
    " e.checks, e.shredded_at, e.completed_at,"
    " coalesce((SELECT array_agg(c.service ORDER BY c.service) FROM erasure_confirmations c"
    "  WHERE c.request_id = e.request_id), '{}') AS confirmed FROM erasures e"
    " WHERE e.request_id = $1"
)
_SET_STATUS = (
    "UPDATE subject_requests SET status = $2, resolution = $3, updated_at = now(),"
    " resolved_by = CASE WHEN $4 THEN 'system:erasure' ELSE resolved_by END,"
    " resolved_at = CASE WHEN $4 THEN now() ELSE resolved_at END WHERE id = $1 RETURNING *"
)


async def customers_request(conn: DbConn, customer_id: UUID) -> UUID:
    """``DELETE /me`` up to the question to orders: the password confirmed (the throttle's
    counters read and cleared, the hash read), then the account closed in one transaction."""
    account = customer_id.bytes
    await conn.fetch(
        "SELECT account, failures, last_failure_at, now() AS now FROM login_backoff"
        " WHERE realm = 'password' AND network = '127.0.0.0/24' AND account = ANY($1::bytea[])"
        " AND last_failure_at > now() - interval '1 day'",
        [account, b""],
    )
    await conn.fetchrow(
        "SELECT id, status, locale, password_hash, policy_version, created_at FROM customers"
        " WHERE id = $1",
        customer_id,
    )
    await conn.execute(
        "DELETE FROM login_backoff WHERE realm = 'password' AND network = '127.0.0.0/24'"
        " AND account = $1",
        account,
    )
    request_id = uuid4()
    async with conn.transaction():
        await conn.fetchrow(
            "INSERT INTO subject_requests (id, customer_id, kind, status, filed_at, due,"
            " filed_by) VALUES ($1, $2, 'erase', 'in_progress', now(), current_date + 1,"
            " 'customer') RETURNING *",
            request_id,
            customer_id,
        )
        await conn.fetchval(
            "UPDATE customers SET status = 'erased', password_hash = NULL, email_index = NULL,"
            " phone_index = NULL, updated_at = now() WHERE id = $1 AND status <> 'erased'"
            " RETURNING true",
            customer_id,
        )
        await conn.execute("DELETE FROM refresh_sessions WHERE customer_id = $1", customer_id)
        await conn.execute("DELETE FROM web_sessions WHERE customer_id = $1", customer_id)
        await conn.execute(
            "UPDATE refresh_sessions SET revoked_at = now() WHERE customer_id = $1"
            " AND revoked_at IS NULL",
            customer_id,
        )
        await conn.execute("DELETE FROM web_sessions WHERE customer_id = $1", customer_id)
        await conn.execute(
            "INSERT INTO access_revocations (customer_id, session_id, revoked_at, keep_until)"
            " VALUES ($1, NULL, now(), now() + interval '1 hour') ON CONFLICT DO NOTHING",
            customer_id,
        )
        await _outbox(conn, "customers.access.revoked")
        await conn.execute(
            "INSERT INTO erasures (request_id, customer_id, reason, next_check_at)"
            " VALUES ($1, $2, 'checking', now())",
            request_id,
            customer_id,
        )
    await conn.fetchrow(_ERASURE_ROW, request_id)
    return request_id


async def orders_obligations(conn: DbConn, customer_id: UUID) -> None:
    await conn.fetch(
        "SELECT o.order_ref, o.status,"
        " CASE WHEN o.status = ANY($2::text[]) THEN 'order' ELSE 'refund' END AS kind"
        " FROM orders o LEFT JOIN payments p ON p.order_id = o.id"
        " WHERE o.customer_id = $1"
        " AND (o.status = ANY($2::text[]) OR p.status = 'refund_requested')"
        " ORDER BY o.created_at, o.id",
        customer_id,
        ["placed", "awaiting_payment", "paid", "dispatched"],
    )


async def customers_shred(
    conn: DbConn, keystore: DbConn, customer_id: UUID, request_id: UUID
) -> None:
    """Nothing open: the data key, the sealed fields, the request's words and the password
    counters go, an audit row, the erasure marked, ``CustomerErased``; the answer read."""
    async with conn.transaction():
        await conn.execute("SELECT 1 FROM erasures WHERE request_id = $1 FOR UPDATE", request_id)
        await conn.fetchrow(_ERASURE_ROW, request_id)
        # The data key goes in the key store, a database of its own, committed at once
        # (services/customers/keystore.py).
        await keystore.execute("DELETE FROM customer_keys WHERE customer_id = $1", customer_id)
        await conn.execute("DELETE FROM customer_pd WHERE customer_id = $1", customer_id)
        await conn.execute(
            "UPDATE subject_requests SET detail = NULL, updated_at = now()"
            " WHERE customer_id = $1 AND detail IS NOT NULL",
            customer_id,
        )
        await conn.execute(
            "DELETE FROM login_backoff WHERE realm = 'password' AND account = $1",
            customer_id.bytes,
        )
        await conn.execute(
            "INSERT INTO audit_pending (at, actor, action, customer_id, purpose, fields)"
            " VALUES (now(), 'system:erasure', 'shred', $1, 'identification',"
            " ARRAY['last_name','first_name','patronymic','phone','email','delivery_address'])",
            customer_id,
        )
        await conn.execute(
            "UPDATE erasures SET state = 'shredded', open_orders = '{}', checks = checks + 1,"
            " next_check_at = NULL, shredded_at = now() WHERE request_id = $1",
            request_id,
        )
        await conn.fetchrow(_SET_STATUS, request_id, "in_progress", "destroyed", False)
        await _outbox(conn, "customers.customer.erased")
        await conn.fetchrow("SELECT * FROM subject_requests WHERE id = $1", request_id)
        await conn.fetchrow(_ERASURE_ROW, request_id)


async def forget_mentions(conn: DbConn, customer_id: UUID) -> None:
    needle = str(customer_id).encode()
    await conn.execute(
        "UPDATE outbox SET body = ''::bytea WHERE published_at IS NOT NULL AND NOT sealed"
        " AND position($1::bytea IN body) > 0",
        needle,
    )
    await conn.fetchval(
        "SELECT count(*) FROM outbox WHERE published_at IS NULL AND NOT sealed"
        " AND position($1::bytea IN body) > 0",
        needle,
    )


async def orders_depersonalise(conn: DbConn, customer_id: UUID) -> None:
    async with conn.transaction():
        await _inbox(conn, "orders", "customers.customer.erased")
        await forget_mentions(conn, customer_id)
        await conn.execute(
            "UPDATE dispatches SET release_id = NULL, updated_at = now()"
            " WHERE order_id IN (SELECT id FROM orders WHERE customer_id = $1)"
            " AND release_id IS NOT NULL",
            customer_id,
        )
        await conn.execute(
            "UPDATE orders SET customer_id = NULL, updated_at = now() WHERE customer_id = $1",
            customer_id,
        )
        await conn.execute("DELETE FROM carts WHERE customer_id = $1", customer_id)
        await conn.execute("DELETE FROM checkout_requests WHERE customer_id = $1", customer_id)
        await conn.execute(
            "DELETE FROM checkout_velocity WHERE scope = 'account' AND subject = $1",
            str(customer_id),
        )
        await _outbox(conn, "orders.customer.depersonalised")


async def notifications_depersonalise(conn: DbConn, customer_id: UUID) -> None:
    async with conn.transaction():
        await _inbox(conn, "notifications", "customers.customer.erased")
        await conn.execute(
            "UPDATE deliveries SET customer_id = NULL, release_id = NULL WHERE customer_id = $1",
            customer_id,
        )
        await _outbox(conn, "notifications.customer.depersonalised")


async def customers_confirm(conn: DbConn, request_id: UUID, service: str, last: bool) -> None:
    """A service's confirmation recorded; with the last one the request completes."""
    async with conn.transaction():
        await _inbox(conn, "customers", f"{service}.customer.depersonalised")
        await conn.fetchval(
            "INSERT INTO erasure_confirmations (request_id, service, counts)"
            " SELECT $1, $2, $3 WHERE EXISTS (SELECT 1 FROM erasures WHERE request_id = $1)"
            " ON CONFLICT DO NOTHING RETURNING true",
            request_id,
            service,
            json.dumps({"rows": 1}),
        )
        await conn.execute("SELECT 1 FROM erasures WHERE request_id = $1 FOR UPDATE", request_id)
        await conn.fetchrow(_ERASURE_ROW, request_id)
        if last:
            await conn.fetchval(
                "UPDATE erasures SET state = 'completed', completed_at = now()"
                " WHERE request_id = $1 AND state = 'shredded' RETURNING true",
                request_id,
            )
            await conn.fetchrow(_SET_STATUS, request_id, "completed", "erased", True)


async def erase(conns: dict[str, asyncpg.Connection], customer_id: UUID) -> dict[str, float]:
    """One erasure's database work, the services' parts in their order: the duration of
    each part and the whole (``total``); orders' retained-outbox wipe is also timed alone
    (``outbox wipe``, inside ``orders``), as it reads every retained message."""
    times: dict[str, float] = {}

    async def timed(name: str, work: Awaitable[object]) -> None:
        started = time.perf_counter()
        await work
        times[name] = time.perf_counter() - started

    started = time.perf_counter()
    customers, orders = conns["customers"], conns["orders"]
    request_id = await customers_request(customers, customer_id)
    await timed("obligations", orders_obligations(orders, customer_id))
    await timed("shred", customers_shred(customers, conns["keystore"], customer_id, request_id))
    times["request"] = time.perf_counter() - started - times["obligations"] - times["shred"]
    await asyncio.gather(
        timed("orders", orders_depersonalise(orders, customer_id)),
        timed("notifications", notifications_depersonalise(conns["notifications"], customer_id)),
    )
    confirmed = time.perf_counter()
    await customers_confirm(customers, request_id, "orders", last=False)
    await customers_confirm(customers, request_id, "notifications", last=True)
    times["confirmations"] = time.perf_counter() - confirmed
    times["total"] = time.perf_counter() - started
    async with orders.transaction():
        await timed("outbox wipe", forget_mentions(orders, uuid4()))
    return times
