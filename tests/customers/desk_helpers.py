"""Staff of the privacy officer's desk for the tests: real accounts signed in through the API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from uuid import UUID

import jwt

from services.customers.keys import ACCOUNTS
from tests.customers.conftest import Shop

STAFF_PASSWORD = "a long staff password"


@dataclass(frozen=True)
class Staff:
    id: UUID
    token: str


async def staff_member(shop: Shop, email: str, *roles: str) -> Staff:
    """A staff account (as ``staff add`` makes it) and its token from ``/staff/login``."""
    conn = await shop.db()
    try:
        await shop.app[ACCOUNTS].add_staff(conn, email, STAFF_PASSWORD, list(roles))
    finally:
        await conn.close()
    status, body = await shop.call(
        "POST", "/api/customers/staff/login", json={"email": email, "password": STAFF_PASSWORD}
    )
    assert status == 200, body
    token = str(body["access_token"])
    claims = jwt.decode(token, options={"verify_signature": False})
    return Staff(UUID(claims["sub"]), token)


async def officer(shop: Shop) -> Staff:
    return await staff_member(shop, "officer@shop.kz", "privacy_officer")


async def audit_rows(shop: Shop, customer_id: str | UUID) -> list[dict[str, Any]]:
    """Every audit row of a customer, sealed onto the chain or still pending."""
    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT actor, action, purpose, fields FROM audit_log WHERE customer_id = $1"
            " UNION ALL SELECT actor, action, purpose, fields FROM audit_pending"
            " WHERE customer_id = $1",
            UUID(str(customer_id)),
        )
    finally:
        await conn.close()
    return [dict(row) for row in rows]
