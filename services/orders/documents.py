"""What a customer (or their export) sees of an order: the JSON documents, built from rows.

Only ids, references, amounts, product snapshots and statuses: orders holds nothing personal.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import asyncpg

from shared.db import DbConn

from . import storage
from .domain import PaymentStatus, Status, money, payment_page_url


def order_summary(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "order_ref": row["order_ref"],
        "status": row["status"],
        "total": money(row["total_amount"]),
        "created_at": row["created_at"].isoformat(),
    }


def order_document(
    row: asyncpg.Record,
    lines: Sequence[asyncpg.Record],
    history: Sequence[asyncpg.Record],
    payment: asyncpg.Record | None,
    bank_public_url: str,
) -> dict[str, Any]:
    return {
        **order_summary(row),
        "items": [_line_document(line) for line in lines],
        "payment": _payment_document(row, payment),
        "payment_url": _payment_url(row, payment, bank_public_url),
        "delivery": {"courier": row["courier"]},
        "needs_attention": row["needs_attention_at"] is not None
        and row["status"] == Status.DISPATCHED.value,
        "history": [
            {"status": h["status"], "at": h["at"].isoformat(), "cause": h["cause"]} for h in history
        ],
    }


def _line_document(line: asyncpg.Record) -> dict[str, Any]:
    """A line as bought: a promotion's price stays the line's price after the promotion."""
    item = {
        "product_id": str(line["product_id"]),
        "sku": line["sku"],
        "name": line["name"],
        "quantity": line["quantity"],
        "unit_price": money(line["unit_price"]),
        "line_total": money(line["unit_price"] * line["quantity"]),
    }
    if line["regular_price"] is not None:
        item["regular_price"] = money(line["regular_price"])
        item["promotion_id"] = str(line["promotion_id"]) if line["promotion_id"] else None
    return item


def _payment_document(row: asyncpg.Record, payment: asyncpg.Record | None) -> dict[str, Any]:
    if payment is None:
        return {"method": row["payment_method"]}
    return {
        "method": row["payment_method"],
        "id": str(payment["id"]),
        "status": payment["status"],
        "amount": money(payment["amount"]),
        "expires_at": payment["expires_at"].isoformat(),
    }


def _payment_url(
    row: asyncpg.Record, payment: asyncpg.Record | None, bank_public_url: str
) -> str | None:
    """The bank's hosted page, while the order waits for its payment."""
    if payment is None or row["status"] != Status.AWAITING_PAYMENT.value:
        return None
    if payment["status"] != PaymentStatus.REQUESTED.value:
        return None
    return payment_page_url(bank_public_url, payment["id"])


def dispatch_document(row: asyncpg.Record | None) -> dict[str, Any] | None:
    """The delivery of an order as its export shows it (None: no dispatch asked yet)."""
    if row is None:
        return None
    return {
        "courier": row["courier"],
        "status": row["status"],
        "release_id": str(row["release_id"]) if row["release_id"] else None,
        "requested_at": row["created_at"].isoformat(),
        "updated_at": row["updated_at"].isoformat(),
        "cancelled_at": row["cancelled_at"].isoformat() if row["cancelled_at"] else None,
    }


def cart_line(row: asyncpg.Record) -> dict[str, Any]:
    return {
        "product_id": str(row["product_id"]),
        "quantity": row["quantity"],
        "added_at": row["added_at"].isoformat(),
    }


async def order_documents(
    conn: DbConn, rows: Sequence[asyncpg.Record], bank_public_url: str
) -> list[dict[str, Any]]:
    ids = [row["id"] for row in rows]
    lines = await storage.order_lines(conn, ids)
    history = await storage.order_history(conn, ids)
    payments = await storage.order_payments(conn, ids)
    return [
        order_document(
            row,
            lines.get(row["id"], []),
            history.get(row["id"], []),
            payments.get(row["id"]),
            bank_public_url,
        )
        for row in rows
    ]


def decision_item(row: asyncpg.Record) -> dict[str, Any]:
    """An automated decision (a velocity refusal, Law 94-V art. 19-1) as the customer's export
    and the privacy officer read it: which limit, the count against it, the wait, when."""
    return {
        "id": str(row["id"]),
        "kind": row["kind"],
        "rule": row["rule"],
        "attempts": row["attempts"],
        "limit_per_min": row["limit_per_min"],
        "retry_after_s": row["retry_after_s"],
        "decided_at": row["decided_at"].isoformat(),
    }
