"""A customer's history, seeded straight into each service's own database (COPY): what years
of shopping through the real flow would have left, without the hours the flow would take.

Per customer (``History``): ``orders`` orders spread over two years, most delivered and some
cancelled after dispatch, 1-3 lines each from the demo catalog, their status history, a card
payment for some, a courier dispatch with its release; two mails per order in the
notifications delivery log (dispatched, then delivered or cancelled); and in customers, the
disclosure register entry and the audit rows each release of those left (the courier's
delivery projection, the mail's contact). A cart with a couple of lines.

``seed_background`` adds other customers' orders, mails and audit rows (ids that name nobody
here), so that the tables the export and the erasure read have the size of a shop in use and a
query without its index shows.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import random
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID, uuid4

from services.customers import storage as customers_storage
from services.customers.domain import (
    GENESIS,
    RELEASES,
    AuditEntry,
    audit_hash,
    legal_basis,
    source_fields,
)
from services.customers.storage.audit import AUDIT_LOCK
from services.orders.domain import new_order_ref
from shared.db import create_pool

NOW = dt.datetime.now(dt.UTC)
SPAN = dt.timedelta(days=730)


@dataclass(frozen=True)
class History:
    orders: int = 100
    cart_lines: int = 2
    cancelled_share: float = 0.15
    card_share: float = 0.4

    @property
    def notifications(self) -> int:
        return 2 * self.orders


@dataclass
class Rows:
    """Rows for each table, in COPY order, by database."""

    orders: dict[str, list[tuple[Any, ...]]]
    notifications: dict[str, list[tuple[Any, ...]]]
    disclosures: list[tuple[Any, ...]]
    audit: list[AuditEntry]


ORDER_COLUMNS: dict[str, list[str]] = {
    "orders": ["id", "order_ref", "customer_id", "status", "payment_method", "courier",
               "total_amount", "weight_g", "created_at", "updated_at"],
    "order_lines": ["order_id", "line_no", "product_id", "sku", "name", "unit_price", "quantity"],
    "order_status_history": ["order_id", "status", "cause", "at"],
    "payments": ["id", "order_id", "bank", "amount", "status", "expires_at", "created_at",
                 "updated_at"],
    "dispatches": ["id", "order_id", "courier", "status", "release_id", "created_at",
                   "updated_at", "cancelled_at"],
    "carts": ["id", "customer_id", "created_at", "updated_at"],
    "cart_items": ["cart_id", "product_id", "quantity", "added_at"],
}  # fmt: skip
DELIVERY_COLUMNS = ["notification_id", "customer_id", "kind", "channel", "template", "locale",
                    "status", "order_ref", "release_id", "message_id", "at"]  # fmt: skip
DISCLOSURE_COLUMNS = ["release_id", "customer_id", "recipient", "purpose", "fields", "order_ref",
                      "legal_basis", "at"]  # fmt: skip


def empty_rows() -> Rows:
    return Rows({t: [] for t in ORDER_COLUMNS}, {"deliveries": []}, [], [])


def _release(
    rows: Rows,
    customer_id: UUID,
    policy: str,
    at: dt.datetime,
    order_ref: str,
    purpose: str,
    kind: str,
) -> UUID:
    """A release of PD: the disclosure register's entry and its audit row."""
    release_id = uuid4()
    recipient, actor = (
        ("courier:sandbox", "system:dispatch")
        if kind == "courier"
        else ("notifications", "service:notifications")
    )
    fields = RELEASES[(purpose, kind)]
    rows.disclosures.append(
        (release_id, customer_id, recipient, purpose, sorted(fields), order_ref,
         legal_basis(purpose, policy), at)
    )  # fmt: skip
    rows.audit.append(AuditEntry(at, actor, "read", customer_id, purpose, source_fields(fields)))
    return release_id


def _mail(
    rows: Rows, customer_id: UUID, policy: str, kind: str, order_ref: str, at: dt.datetime
) -> None:
    release_id = _release(
        rows, customer_id, policy, at, order_ref, "service_communication", "email"
    )
    rows.notifications["deliveries"].append(
        (uuid4(), customer_id, kind, "email", kind, "ru", "sent", order_ref, release_id, uuid4(),
         at)
    )  # fmt: skip


def add_order(
    rows: Rows,
    rng: random.Random,
    customer_id: UUID,
    policy: str,
    products: Sequence[dict[str, Any]],
    history: History,
    at: dt.datetime,
) -> None:
    """One order placed at ``at``, dispatched, then delivered (or cancelled), with its mails."""
    order_id, order_ref = uuid4(), new_order_ref()
    cancelled = rng.random() < history.cancelled_share
    card = rng.random() < history.card_share
    picked = rng.sample(list(products), rng.randint(1, 3))
    total = 0
    for line_no, product in enumerate(picked, start=1):
        quantity = rng.randint(1, 3)
        total += product["price"] * quantity
        rows.orders["order_lines"].append(
            (order_id, line_no, product["id"], product["sku"], product["name"],
             product["price"], quantity)
        )  # fmt: skip
    steps = ["placed", *(["awaiting_payment", "paid"] if card else []), "dispatched"]
    steps.append("cancelled" if cancelled else "delivered")
    times = [at + dt.timedelta(minutes=10 * i) for i in range(len(steps))]
    for status, when in zip(steps, times, strict=True):
        rows.orders["order_status_history"].append((order_id, status, "bench seed", when))
    rows.orders["orders"].append(
        (order_id, order_ref, customer_id, steps[-1], "card" if card else "cash_on_delivery",
         "sandbox", total, 500, at, times[-1])
    )  # fmt: skip
    if card:
        rows.orders["payments"].append(
            (uuid4(), order_id, "sandbox", total, "refunded" if cancelled else "succeeded",
             at + dt.timedelta(minutes=30), at, times[2])
        )  # fmt: skip
    dispatched_at = times[steps.index("dispatched")]
    release_id = _release(
        rows, customer_id, policy, dispatched_at, order_ref, "delivery", "courier"
    )
    rows.orders["dispatches"].append(
        (uuid4(), order_id, "sandbox", "cancelled" if cancelled else "delivered", release_id,
         dispatched_at, times[-1], times[-1] if cancelled else None)
    )  # fmt: skip
    _mail(rows, customer_id, policy, "order_dispatched", order_ref, dispatched_at)
    _mail(rows, customer_id, policy, f"order_{steps[-1]}", order_ref, times[-1])


def add_cart(
    rows: Rows,
    rng: random.Random,
    customer_id: UUID,
    products: Sequence[dict[str, Any]],
    lines: int,
) -> None:
    cart_id = uuid4()
    rows.orders["carts"].append((cart_id, customer_id, NOW, NOW))
    for product in rng.sample(list(products), lines):
        rows.orders["cart_items"].append((cart_id, product["id"], rng.randint(1, 2), NOW))


def histories(
    customers: dict[UUID, str],
    products: Sequence[dict[str, Any]],
    history: History,
    seed: int = 9,
) -> Rows:
    """Rows for every customer of ``customers`` (id -> accepted policy version)."""
    rng = random.Random(seed)
    rows = empty_rows()
    for customer_id, policy in customers.items():
        starts = sorted(NOW - SPAN * rng.random() for _ in range(history.orders))
        for at in starts:
            add_order(rows, rng, customer_id, policy, products, history, at)
        if history.cart_lines:
            add_cart(rows, rng, customer_id, products, history.cart_lines)
    return rows


async def copy_rows(
    dsn: str, tables: dict[str, list[tuple[Any, ...]]], columns: dict[str, list[str]]
) -> None:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            for table, records in tables.items():
                if records:
                    await conn.copy_records_to_table(table, records=records, columns=columns[table])
        await pool.execute("ANALYZE")
    finally:
        await pool.close()


async def write(dsns: dict[str, str], rows: Rows) -> None:
    """COPY the rows into orders, notifications and customers (audit rows land pending; the
    customers service's chainer seals them)."""
    await copy_rows(dsns["orders"], rows.orders, ORDER_COLUMNS)
    await copy_rows(dsns["notifications"], rows.notifications, {"deliveries": DELIVERY_COLUMNS})
    pool = await create_pool(dsns["customers"], min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            if rows.disclosures:
                await conn.copy_records_to_table(
                    "disclosures", records=rows.disclosures, columns=DISCLOSURE_COLUMNS
                )
            await customers_storage.append_audit_many(conn, rows.audit)
        await pool.execute("ANALYZE")
    finally:
        await pool.close()


async def seed_customers(
    dsns: dict[str, str],
    customer_ids: Sequence[UUID],
    products: Sequence[dict[str, Any]],
    history: History,
) -> None:
    """The history of customers who signed up through the API (their policy version read)."""
    pool = await create_pool(dsns["customers"], min_size=1, max_size=1)
    try:
        found = await pool.fetch(
            "SELECT id, policy_version FROM customers WHERE id = ANY($1::uuid[])",
            list(customer_ids),
        )
    finally:
        await pool.close()
    await write(dsns, histories({r["id"]: r["policy_version"] for r in found}, products, history))


async def seed_background(
    dsns: dict[str, str], products: Sequence[dict[str, Any]], customers: int, orders_each: int
) -> None:
    """Other customers' orders, mails and audit rows (no customer row: nothing to export)."""
    rows = histories(
        {uuid4(): "2026-11-01" for _ in range(customers)},
        products,
        History(orders=orders_each, cart_lines=0),
        seed=11,
    )
    rows.disclosures = []  # the register points at customers rows; the audit log does not
    await write(dsns, rows)


OUTBOX_COLUMNS = ["message_id", "exchange", "routing_key", "message_type", "correlation_id",
                  "body", "sealed", "created_at", "published_at"]  # fmt: skip
ORDER_EVENTS = ("orders.order.placed", "orders.order.status_changed", "orders.dispatch.requested")


async def seed_outbox(dsn: str, rows: int, seed: int = 13) -> None:
    """The orders outbox as a week of traffic leaves it: ``rows`` published messages kept for
    the outbox's retention (7 days), their plain JSON naming orders and customers."""
    rng = random.Random(seed)
    customers = [uuid4() for _ in range(max(1, rows // 50))]
    records = []
    for _ in range(rows):
        order_id, customer_id = uuid4(), rng.choice(customers)
        kind = rng.choice(ORDER_EVENTS)
        body = json.dumps(
            {"order_id": str(order_id), "customer_id": str(customer_id),
             "order_ref": new_order_ref(), "status": "placed",
             "total": {"amount": rng.randint(1000, 90000) * 100, "currency": "KZT"}}
        ).encode()  # fmt: skip
        at = NOW - dt.timedelta(days=7) * rng.random()
        records.append((uuid4(), "shop.events", kind, kind, str(order_id), body, False, at, at))
    await copy_rows(dsn, {"outbox": records}, {"outbox": OUTBOX_COLUMNS})


AUDIT_USES = (
    ("read", "identification", ("email", "first_name", "last_name", "phone")),
    ("read", "service_communication", ("email", "first_name")),
    ("read", "delivery", ("delivery_address", "first_name", "last_name", "phone")),
)


async def seed_audit_log(dsn: str, rows: int, seed: int = 17) -> None:
    """``rows`` sealed audit rows of other customers (two years of sign-ins, mails and
    deliveries), chained onto the log's last hash under the chainer's lock, as the chainer
    would have sealed them."""
    rng = random.Random(seed)
    customers = [uuid4() for _ in range(max(1, rows // 100))]
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
            prev = await conn.fetchval("SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1")
            prev = prev or GENESIS
            records = []
            for at in sorted(NOW - SPAN * rng.random() for _ in range(rows)):
                customer_id = rng.choice(customers)
                action, purpose, fields = rng.choice(AUDIT_USES)
                actor = {"identification": f"customer:{customer_id}",
                         "service_communication": "service:notifications",
                         "delivery": "system:dispatch"}[purpose]  # fmt: skip
                entry = AuditEntry(at, actor, action, customer_id, purpose, fields)
                digest = audit_hash(prev, entry)
                records.append(
                    (at, actor, action, customer_id, purpose, list(fields), prev, digest)
                )
                prev = digest
            await conn.copy_records_to_table(
                "audit_log",
                records=records,
                columns=["at", "actor", "action", "customer_id", "purpose", "fields",
                         "prev_hash", "hash"],
            )  # fmt: skip
        await pool.execute("ANALYZE audit_log")
    finally:
        await pool.close()


async def wait_audit_sealed(dsn: str, timeout_s: float = 300) -> None:
    """Until the chainer has sealed every pending audit row (the export reads both)."""
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        deadline = time.monotonic() + timeout_s
        while await pool.fetchval("SELECT count(*) FROM audit_pending") > 0:
            if time.monotonic() > deadline:
                raise RuntimeError("the audit chainer did not seal the seeded rows in time")
            await asyncio.sleep(0.5)
    finally:
        await pool.close()
