"""The export's baseline: the same SQL reads as each service's export, in bare aiohttp +
asyncpg handlers with none of the shop's code, for ``bench.customer_export``.

Three roles, each its own process like the services: ``customers`` answers
``GET /api/customers/me/export`` (the customer's id in ``X-Customer``, no token check) with its
own reads in one repeatable-read snapshot while it asks the bare ``orders`` and
``notifications`` over HTTP at the same time, as the real export does; each of those answers
``GET /internal/customers/{id}/export`` with its reads. Rows become JSON as they come (no
decryption, no documents, no audit-trail shaping): what is left is the database, the sockets
and the JSON, the least any implementation of this design does.

The statements are the shop's (``services/*/storage``), kept here as text: when the export
reads something new, add it to ``READS``.

    python -m bench.bare_export customers PORT DSN KEYSTORE_DSN ORDERS_URL NOTIFICATIONS_URL
    python -m bench.bare_export orders|notifications PORT DSN
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import sys
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
from aiohttp import web

# Per role: (section, statement with $1 = the customer id); a section read by several
# statements gets a list per statement. ``WRITES`` happen in the same transaction.
# A statement on ``ANY($1::uuid[])`` takes the ids of the rows of the role's first statement
# (the orders), as the shop's storage does.
_ORDER_IDS = "ANY($1::uuid[])"
READS: dict[str, list[tuple[str, str]]] = {
    "customers": [
        ("profile", "SELECT id, status, locale, password_hash, policy_version, created_at"
                    " FROM customers WHERE id = $1"),
        ("profile", "SELECT field, ciphertext FROM customer_pd WHERE customer_id = $1"),
        ("consents", "SELECT kind, granted, policy_version, record, recorded_at FROM consents"
                     " WHERE customer_id = $1 ORDER BY id"),
        ("disclosures", "SELECT release_id, recipient, purpose, fields, at, order_ref,"
                        " legal_basis FROM disclosures WHERE customer_id = $1"
                        " ORDER BY at DESC, release_id"),
        ("requests", "SELECT * FROM subject_requests WHERE customer_id = $1"
                     " ORDER BY filed_at DESC, id"),
        ("requests", "SELECT w.id, w.kind, w.status, w.requested_at FROM web_account_requests w"
                     " WHERE w.customer_id = $1 AND NOT EXISTS"
                     " (SELECT 1 FROM subject_requests s WHERE s.id = w.id)"
                     " ORDER BY w.requested_at DESC, w.id"),
        ("sessions", "SELECT min(created_at) AS started_at, max(created_at) AS last_refresh_at,"
                     " max(expires_at) AS expires_at, max(revoked_at) AS ended_at,"
                     " bool_or(rotated_at IS NULL AND revoked_at IS NULL AND expires_at > now())"
                     " AS live FROM refresh_sessions WHERE customer_id = $1"
                     " GROUP BY family_id ORDER BY 1"),
        ("sessions", "SELECT created_at AS started_at, last_seen_at, expires_at,"
                     " expires_at > now() AS live FROM web_sessions WHERE customer_id = $1"
                     " ORDER BY created_at"),
        ("audit", "SELECT at, actor, action, purpose, fields FROM ("
                  " SELECT id, at, actor, action, purpose, fields, 0 AS pending FROM audit_log"
                  "  WHERE customer_id = $1 UNION ALL"
                  " SELECT id, at, actor, action, purpose, fields, 1 AS pending"
                  "  FROM audit_pending WHERE customer_id = $1) AS trail"
                  " ORDER BY at, pending, id"),
    ],
    "orders": [
        ("orders", "SELECT o.id, o.order_ref, o.customer_id, o.status, o.payment_method,"
                   " o.courier, o.total_amount, o.currency, o.created_at, o.needs_attention_at,"
                   " o.weight_g, EXISTS (SELECT 1 FROM dispatches d WHERE d.order_id = o.id)"
                   " AS dispatch_requested, EXISTS (SELECT 1 FROM dispatches d"
                   " WHERE d.order_id = o.id AND d.release_id IS NOT NULL) AS dispatch_released"
                   " FROM orders o WHERE o.customer_id = $1 ORDER BY o.created_at DESC, o.id DESC"),
        ("orders", "SELECT order_id, product_id, sku, name, unit_price, quantity FROM order_lines"
                   f" WHERE order_id = {_ORDER_IDS} ORDER BY order_id, line_no"),
        ("orders", "SELECT order_id, status, cause, at FROM order_status_history"
                   f" WHERE order_id = {_ORDER_IDS} ORDER BY order_id, id"),
        ("orders", "SELECT id, order_id, bank, amount, currency, status, expires_at, updated_at"
                   f" FROM payments WHERE order_id = {_ORDER_IDS}"),
        ("orders", "SELECT order_id, courier, status, release_id, created_at, updated_at,"
                   f" cancelled_at FROM dispatches WHERE order_id = {_ORDER_IDS}"),
        ("cart", "SELECT i.product_id, i.quantity, i.added_at FROM carts c"
                 " JOIN cart_items i ON i.cart_id = c.id WHERE c.customer_id = $1"
                 " ORDER BY i.added_at, i.product_id"),
        ("decisions", "SELECT id, kind, rule, attempts, limit_per_min, retry_after_s, decided_at"
                      " FROM automated_decisions WHERE customer_id = $1"
                      " ORDER BY decided_at DESC, id"),
    ],
    # The customer's data key, from the key store (a database of its own,
    # services/customers/keystore.py), which the customers process reads after its own.
    "keystore": [
        ("profile", "SELECT wrapped_key FROM customer_keys WHERE customer_id = $1"),
    ],
    "notifications": [
        ("notifications", "SELECT kind, channel, template, locale, status, reason, order_ref,"
                          " release_id, at FROM deliveries WHERE customer_id = $1"
                          " ORDER BY at, notification_id"),
    ],
}  # fmt: skip
WRITES: dict[str, list[str]] = {
    # The read of the profile is audited (services/customers/personal_data.py).
    "customers": [
        "INSERT INTO audit_pending (at, actor, action, customer_id, purpose, fields)"
        " VALUES (now(), 'customer:' || $1::uuid::text, 'read', $1::uuid, 'identification',"
        " ARRAY['last_name','first_name','patronymic','phone','email','delivery_address'])"
    ],
}


def _plain(value: object) -> object:
    if isinstance(value, dt.datetime | dt.date | UUID):
        return str(value)
    if isinstance(value, bytes):
        return value.hex()
    raise TypeError(type(value).__name__)


async def read_sections(conn: asyncpg.Connection, role: str, customer_id: UUID) -> dict[str, Any]:
    """Every statement of ``role`` in one snapshot; rows as dicts, one list per statement."""
    sections: dict[str, list[Any]] = {}
    first: list[asyncpg.Record] = []
    async with conn.transaction(isolation="repeatable_read"):
        for index, (name, sql) in enumerate(READS[role]):
            argument = [row["id"] for row in first] if _ORDER_IDS in sql else customer_id
            rows = await conn.fetch(sql, argument)
            first = rows if index == 0 else first
            sections.setdefault(name, []).append([dict(row) for row in rows])
        for sql in WRITES.get(role, []):
            await conn.execute(sql, customer_id)
    return sections


def make_app(role: str, dsns: list[str], peers: list[str]) -> web.Application:
    """``dsns``: the role's database, and for customers the key store's after it."""
    app = web.Application()
    pools_key = web.AppKey("pools", list[asyncpg.Pool])
    client_key = web.AppKey("client", aiohttp.ClientSession)
    roles = [role, "keystore"] if role == "customers" else [role]

    async def resources(app: web.Application):  # type: ignore[no-untyped-def]
        app[pools_key] = [await asyncpg.create_pool(d, min_size=2, max_size=10) for d in dsns]
        app[client_key] = aiohttp.ClientSession()
        yield
        await app[client_key].close()
        for pool in app[pools_key]:
            await pool.close()

    app.cleanup_ctx.append(resources)

    async def own(customer_id: UUID) -> dict[str, Any]:
        sections: dict[str, Any] = {}
        for name, pool in zip(roles, app[pools_key], strict=True):
            async with pool.acquire() as conn:
                for section, rows in (await read_sections(conn, name, customer_id)).items():
                    sections.setdefault(section, []).extend(rows)
        return sections

    async def peer(url: str) -> Any:
        async with app[client_key].get(url) as response:
            return await response.json()

    async def internal(request: web.Request) -> web.Response:
        sections = await own(UUID(request.match_info["customer_id"]))
        return web.Response(
            text=json.dumps(sections, default=_plain), content_type="application/json"
        )

    async def export(request: web.Request) -> web.Response:
        customer_id = UUID(request.headers["X-Customer"])
        mine, *theirs = await asyncio.gather(
            own(customer_id),
            *(peer(f"{base}/internal/customers/{customer_id}/export") for base in peers),
        )
        document = {**mine, **{k: v for part in theirs for k, v in part.items()}}
        return web.Response(
            text=json.dumps(document, default=_plain), content_type="application/json"
        )

    async def healthz(_request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/internal/customers/{customer_id}/export", internal)
    app.router.add_get("/api/customers/me/export", export)
    return app


def main() -> None:
    role, port, *rest = sys.argv[1:]
    count = 2 if role == "customers" else 1
    app = make_app(role, rest[:count], rest[count:])
    web.run_app(app, host="127.0.0.1", port=int(port), print=None, access_log=None)


if __name__ == "__main__":
    main()
