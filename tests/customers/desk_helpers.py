"""Staff of the privacy officer's desk for the tests: real accounts signed in through the API."""

from __future__ import annotations

from collections.abc import Iterable
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


async def walk(shop: Shop, token: str, url: str) -> list[str]:
    """The ids of every item of a desk listing, fetched one per page by its cursors."""
    walked: list[str] = []
    cursor = None
    base = url + ("&" if "?" in url else "?") + "limit=1"
    while True:
        status, page = await shop.call(
            "GET", f"{base}&cursor={cursor}" if cursor else base, token=token
        )
        assert status == 200
        walked += [item["id"] for item in page["items"]]
        if (cursor := page["next_cursor"]) is None:
            return walked


async def refused_quoting_nothing(
    shop: Shop, token: str, expected: Iterable[tuple[str, int]], sent: Iterable[str]
) -> None:
    """Each GET answers its expected status, and no answer quotes what the request sent."""
    sent = list(sent)
    for url, status in expected:
        got, problem = await shop.call("GET", url, token=token)
        assert got == status, url
        for value in sent:
            assert value not in str(problem)
