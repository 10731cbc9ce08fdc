"""The export of everything held about a customer (their right of access).

One document, the same for the JSON API (``GET /api/customers/me/export``) and the account
pages' download: this service's profile, consents and disclosures, plus the orders and
notifications services' sections asked over HTTP. A section that does not answer is left
empty with a note, and the document says it is incomplete.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import aiohttp
from aiohttp import web

from shared.auth import INTERNAL_TOKEN_HEADER
from shared.db import PG_POOL
from shared.logging import get_logger
from shared.service import HTTP_CLIENT

from . import storage
from .keys import ACCOUNTS, SETTINGS

log = get_logger("customers.export")


def disclosure_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "release_id": str(row["release_id"]),
        "recipient": row["recipient"],
        "purpose": row["purpose"],
        "fields": list(row["fields"]),
        "at": row["at"].isoformat(),
        "order_ref": row["order_ref"],
        "legal_basis": row["legal_basis"],
    }


def consent_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "granted": row["granted"],
        "policy_version": row["policy_version"],
        "record": row["record"],
        "recorded_at": row["recorded_at"].isoformat(),
    }


async def export_document(app: web.Application, customer_id: UUID) -> dict[str, Any]:
    """Everything held about the customer across the services (the API and the pages)."""
    accounts = app[ACCOUNTS]
    async with app[PG_POOL].acquire() as conn, conn.transaction():
        profile = await accounts.profile(conn, customer_id, f"customer:{customer_id}")
        consents = await storage.consent_history(conn, customer_id)
        released = await storage.disclosures(conn, customer_id)
    settings = app[SETTINGS]
    (orders, orders_note), (notes_items, notes_note) = await asyncio.gather(
        fetch_section(app, settings.orders_url, customer_id, "orders"),
        fetch_section(app, settings.notifications_url, customer_id, "notifications"),
    )
    notes = {k: v for k, v in (("orders", orders_note), ("notifications", notes_note)) if v}
    document: dict[str, Any] = {
        "profile": profile,
        "consents": [consent_item(row) for row in consents],
        "disclosures": [disclosure_item(row) for row in released],
        "orders": orders,
        "notifications": notes_items,
        "complete": not notes,
    }
    if notes:
        document["notes"] = notes
    return document


async def fetch_section(
    app: web.Application, base_url: str, customer_id: UUID, section: str
) -> tuple[list[Any], str | None]:
    """A service's export section of this customer, or an empty list and a note why."""
    if not base_url:
        return [], f"the {section} service is not configured here; nothing is held there"
    url = f"{base_url.rstrip('/')}/internal/customers/{customer_id}/export"
    token = app[SETTINGS].internal_token.get_secret_value()
    try:
        async with app[HTTP_CLIENT].get(url, headers={INTERNAL_TOKEN_HEADER: token}) as response:
            response.raise_for_status()
            data = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("export section unavailable", section=section, error=type(exc).__name__)
        return [], f"the {section} service did not answer; try the export again later"
    items = data.get(section) if isinstance(data, dict) else None
    if not isinstance(items, list):
        return [], f"the {section} service answered in an unexpected shape"
    return items, None
