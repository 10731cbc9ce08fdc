"""The export of everything held about a customer (their right of access, Law 94-V Art. 24).

One document, the same for the JSON API (``GET /api/customers/me/export``) and the account
pages (the readable page and the download). Its sections are the data maps' (shared.data_map
``EXPORT_SECTIONS``): this service's profile, consents, suppressions, disclosures, requests,
sessions and audit trail, read in one snapshot, and the orders service's orders and cart and
the notifications service's delivery log, asked over internal HTTP at the same time. A service
that does not answer leaves its sections empty with a note, and the document says it is
incomplete (``complete: false``).

The audit trail says who used the customer's data for which purpose. An actor is shown by
its kind: the customer themselves, a service or system task by its name (not persons), and an
employee by their role only, never their identity: the customer's right is to know the
operator, the purposes and the recipients, and an employee acts as the operator; who the
employee was is their own personal data, kept in the audit log for the privacy officer to
answer a complaint with.
"""

from __future__ import annotations

import asyncio
from typing import Any
from uuid import UUID

import aiohttp
import asyncpg
from aiohttp import web

from shared.auth import INTERNAL_TOKEN_HEADER, STAFF_ROLES
from shared.data_map import EXPORT_SECTIONS
from shared.db import PG_POOL, DbConn
from shared.logging import get_logger
from shared.service import HTTP_CLIENT

from . import storage, subject_requests
from .keys import ACCOUNTS, SETTINGS
from .personal_data import CONFIDENTIAL_READ
from .storage import export as held

log = get_logger("customers.export")

Sections = dict[str, list[Any]]


def disclosure_item(row: dict[str, Any]) -> dict[str, Any]:
    """One release as the customer reads it: to whom, where (country), why, which fields."""
    item = {
        "release_id": str(row["release_id"]),
        "recipient": row["recipient"],
        "purpose": row["purpose"],
        "fields": list(row["fields"]),
        "at": row["at"].isoformat(),
        "order_ref": row["order_ref"],
        "reference": str(row["reference"]) if row.get("reference") else None,
        "legal_basis": row["legal_basis"],
        "country": row["country"],
    }
    if row.get("reason"):
        item["reason"] = row["reason"]
    return item


def consent_item(row: dict[str, Any]) -> dict[str, Any]:
    item = {
        "kind": row["kind"],
        "granted": row["granted"],
        "policy_version": row["policy_version"],
        "record": row["record"],
        "recorded_at": row["recorded_at"].isoformat(),
    }
    source = row["record"].get("source") if isinstance(row["record"], dict) else None
    if source:  # a withdrawal outside the account: an unsubscribe link, a STOP by SMS
        item["source"] = source
    return item


def suppression_item(row: dict[str, Any]) -> dict[str, Any]:
    return {
        "channel": row["channel"],
        "reason": row["reason"],
        "at": row["suppressed_at"].isoformat(),
    }


def _iso(value: Any) -> str | None:
    return value.isoformat() if value is not None else None


def session_items(apps: list[asyncpg.Record], browsers: list[asyncpg.Record]) -> list[Any]:
    """Sign-ins, without any token or its hash: the app's (API) and the account pages'."""
    items = [
        {
            "kind": "app",
            "started_at": _iso(row["started_at"]),
            "last_refresh_at": _iso(row["last_refresh_at"]),
            "expires_at": _iso(row["expires_at"]),
            "ended_at": _iso(row["ended_at"]),
            "live": bool(row["live"]),
        }
        for row in apps
    ]
    items += [
        {
            "kind": "browser",
            "started_at": _iso(row["started_at"]),
            "last_seen_at": _iso(row["last_seen_at"]),
            "expires_at": _iso(row["expires_at"]),
            "live": bool(row["live"]),
        }
        for row in browsers
    ]
    return items


def shown_actor(actor: str, customer_id: UUID, roles: dict[UUID, list[str]]) -> dict[str, Any]:
    """How the export names who used the data (see the module's docstring): a kind, a
    service's or task's name, a staff role; never an employee's id."""
    kind, _, rest = actor.partition(":")
    if kind == "customer":
        return {"kind": "you" if rest == str(customer_id) else "customer"}
    if kind in ("service", "system") and rest:
        return {"kind": kind, "name": rest}
    if kind == "staff":
        staff_id = _uuid(rest)
        found = roles.get(staff_id) if staff_id else None
        return {"kind": "staff", "roles": found} if found else {"kind": "staff"}
    if kind in STAFF_ROLES:
        return {"kind": "staff", "roles": [kind]}
    return {"kind": kind or "unknown"}


def _uuid(text: str) -> UUID | None:
    try:
        return UUID(text)
    except ValueError:
        return None


async def audit_items(conn: DbConn, customer_id: UUID) -> list[Any]:
    # A read for a confidential legal disclosure (art. 9) stays out, as its register row does.
    rows = await held.audit_trail(conn, customer_id, leave_out=(CONFIDENTIAL_READ,))
    staff_ids = {
        staff_id
        for row in rows
        if row["actor"].startswith("staff:") and (staff_id := _uuid(row["actor"][6:]))
    }
    roles = await held.staff_roles(conn, staff_ids)
    return [
        {
            "at": row["at"].isoformat(),
            "actor": shown_actor(row["actor"], customer_id, roles),
            "action": row["action"],
            "purpose": row["purpose"],
            "fields": list(row["fields"]),
        }
        for row in rows
    ]


async def request_items(app: web.Application, conn: DbConn, customer_id: UUID) -> list[Any]:
    """The register of the customer's requests (with their own words), then the account
    pages' earlier requests the register does not carry."""
    filed = await subject_requests.for_customer(conn, customer_id)
    details = await subject_requests.details_of(conn, app[ACCOUNTS].gate, filed)
    items = [
        subject_requests.item(request, detail)
        for request, detail in zip(filed, details, strict=True)
    ]
    for row in await held.page_requests_not_in_register(conn, customer_id):
        items.append(
            {
                "id": str(row["id"]),
                "kind": row["kind"],
                "status": row["status"],
                "filed_at": row["requested_at"].isoformat(),
            }
        )
    return items


async def own_sections(app: web.Application, customer_id: UUID) -> dict[str, Any]:
    """This service's sections (services/customers/data_map.py), in one snapshot."""
    async with app[PG_POOL].acquire() as conn, conn.transaction(isolation="repeatable_read"):
        profile = await app[ACCOUNTS].profile(conn, customer_id, f"customer:{customer_id}")
        customer = await storage.get_customer(conn, customer_id)
        if customer is not None:
            profile["policy_version"] = customer.policy_version
        consents = await storage.consent_history(conn, customer_id)
        suppressed = await storage.suppressions_of(conn, customer_id)
        released = await storage.disclosures(conn, customer_id)
        requests = await request_items(app, conn, customer_id)
        apps = await held.refresh_session_families(conn, customer_id)
        browsers = await held.web_sessions_of(conn, customer_id)
        audit = await audit_items(conn, customer_id)
    return {
        "profile": profile,
        "consents": [consent_item(row) for row in consents],
        "suppressions": [suppression_item(row) for row in suppressed],
        "disclosures": [disclosure_item(row) for row in released],
        "requests": requests,
        "sessions": session_items(apps, browsers),
        "audit": audit,
    }


async def export_document(app: web.Application, customer_id: UUID) -> dict[str, Any]:
    """Everything held about the customer across the services (the API and the pages)."""
    settings = app[SETTINGS]
    own, (orders, orders_notes), (notes_items, notes_notes) = await asyncio.gather(
        own_sections(app, customer_id),
        fetch_sections(app, settings.orders_url, customer_id, "orders"),
        fetch_sections(app, settings.notifications_url, customer_id, "notifications"),
    )
    notes = {**orders_notes, **notes_notes}
    document: dict[str, Any] = {**own, **orders, **notes_items, "complete": not notes}
    if notes:
        document["notes"] = notes
    return document


async def fetch_sections(
    app: web.Application, base_url: str, customer_id: UUID, service: str
) -> tuple[Sections, dict[str, str]]:
    """A service's export sections of this customer (``EXPORT_SECTIONS[service]``), and a
    note per section it could not give (then left empty)."""
    names = EXPORT_SECTIONS[service]
    data, why = await _ask(app, base_url, customer_id, service)
    sections: Sections = {}
    notes: dict[str, str] = {}
    for name in names:
        value = data.get(name) if isinstance(data, dict) else None
        if isinstance(value, list):
            sections[name] = value
        else:
            sections[name] = []
            notes[name] = why or f"the {service} service answered in an unexpected shape"
    return sections, notes


async def _ask(
    app: web.Application, base_url: str, customer_id: UUID, service: str
) -> tuple[Any, str | None]:
    if not base_url:
        return None, f"the {service} service is not configured here; nothing is held there"
    url = f"{base_url.rstrip('/')}/internal/customers/{customer_id}/export"
    token = app[SETTINGS].internal_token.get_secret_value()
    try:
        async with app[HTTP_CLIENT].get(url, headers={INTERNAL_TOKEN_HEADER: token}) as response:
            response.raise_for_status()
            return await response.json(), None
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("export section unavailable", service=service, error=type(exc).__name__)
        return None, f"the {service} service did not answer; try the export again later"
