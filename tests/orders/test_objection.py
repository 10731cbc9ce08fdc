"""The checkout velocity refusal is an automated decision (Law 94-V art. 19-1): recorded
without personal data, its problem tells the customer how to object, and the privacy officer
can read the decision an objection names."""

from __future__ import annotations

import asyncio
import time
from uuid import UUID, uuid4

import asyncpg
import pytest

from shared.auth import TokenIssuer
from tests.orders.conftest import INTERNAL_TOKEN, Orders

LIMITS = {"checkout_limit_per_account_per_min": 1, "checkout_limit_per_network_per_min": 0}


async def refused_checkout(orders: Orders) -> tuple[str, dict[str, object], str]:
    if time.time() % 60 > 50:  # the windows are calendar minutes: start in a fresh one
        await asyncio.sleep(61 - time.time() % 60)
    customer = uuid4()
    await orders.add_item(orders.catalog.add("Gauze", 1_000), 1, orders.auth(customer))
    assert (await orders.checkout(customer))[0] == 201
    await orders.add_item(orders.catalog.add("Gauze", 1_000), 1, orders.auth(customer))
    status, problem, _ = await orders.checkout(customer, "second")
    assert status == 429, problem
    return str(customer), problem, "second"


@pytest.mark.parametrize("orders_overrides", [LIMITS])
async def test_the_velocity_refusal_says_how_to_object(orders: Orders) -> None:
    customer, problem, key = await refused_checkout(orders)
    assert problem["type"] == "automated-decision" and problem["title"] == "Too many checkouts"
    decision_id = problem["decision_id"]
    assert problem["objection"] == {
        "method": "POST",
        "href": "/api/customers/me/requests",
        "body": {"kind": "objection", "detail": f"checkout decision {decision_id}"},
    }
    assert "object" in str(problem["detail"])
    # The same request again is the same decision, not a second one.
    status, again, _ = await orders.checkout(UUID(customer), key)
    assert status == 429 and again["decision_id"] == decision_id

    conn = await asyncpg.connect(orders.dsn)
    try:
        rows = await conn.fetch("SELECT * FROM automated_decisions")
    finally:
        await conn.close()
    (row,) = rows
    assert str(row["id"]) == decision_id and str(row["customer_id"]) == customer
    assert (row["kind"], row["rule"], row["attempts"], row["limit_per_min"]) == (
        "checkout_velocity",
        "account",
        2,
        1,
    )
    # Nothing about the client's network or the cart is kept with it.
    assert set(dict(row)) == {
        "id",
        "kind",
        "customer_id",
        "attempt",
        "rule",
        "attempts",
        "limit_per_min",
        "retry_after_s",
        "decided_at",
    }


@pytest.mark.parametrize("orders_overrides", [LIMITS])
async def test_the_officer_reads_the_decision(orders: Orders, token_issuer: TokenIssuer) -> None:
    customer, problem, _ = await refused_checkout(orders)
    path = f"/api/orders/decisions/{problem['decision_id']}"

    def staff(role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token_issuer.issue(uuid4(), 'staff', {role})}"}

    status, decision, _ = await orders.call("GET", path, headers=staff("privacy_officer"))
    assert status == 200, decision
    assert decision["customer_id"] == customer and decision["rule"] == "account"
    assert decision["attempts"] == 2 and decision["limit_per_min"] == 1
    for headers in (staff("support"), orders.auth(uuid4())):
        status, _, _ = await orders.call("GET", path, headers=headers)
        assert status == 403
    status, _, _ = await orders.call("GET", path)
    assert status == 401
    status, missing, _ = await orders.call(
        "GET", f"/api/orders/decisions/{uuid4()}", headers=staff("privacy_officer")
    )
    assert status == 404 and missing["title"] == "Not found"


@pytest.mark.parametrize("orders_overrides", [LIMITS])
async def test_the_decision_is_in_the_customers_export(orders: Orders) -> None:
    customer, problem, _ = await refused_checkout(orders)
    status, export, _ = await orders.call(
        "GET",
        f"/internal/customers/{customer}/export",
        headers={"X-Internal-Token": INTERNAL_TOKEN},
    )
    assert status == 200, export
    (decision,) = export["decisions"]
    assert decision["id"] == problem["decision_id"]
    assert (decision["kind"], decision["rule"], decision["attempts"]) == (
        "checkout_velocity",
        "account",
        2,
    )
    assert "customer_id" not in decision
