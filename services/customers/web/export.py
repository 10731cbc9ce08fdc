"""The "download my data" document, assembled by the same pieces as GET /api/customers/me/export.

A thin wrapper: ``handlers.get_export`` reads the customer from a bearer token, so the pages
cannot call it directly; this calls the functions it calls, in the same way.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

from aiohttp import web

from shared.db import PG_POOL

from .. import storage
from ..handlers import ACCOUNTS, SETTINGS, consent_item, disclosure_item, fetch_section


async def export_document(app: web.Application, customer_id: UUID) -> dict[str, Any]:
    """``app`` is the customers app (settings, HTTP client, pool, accounts)."""
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
