"""Blocking (Law 94-V art. 1) in the customers service: the customer's own routes and the
privacy officer's, the request on its clock, the events, what a blocked customer may still do,
and the one exception to "nothing is released": an order placed before the block."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest

from services.customers.rights import request_due
from shared.contracts import CustomerBlocked, CustomerUnblocked, DispatchMessage
from shared.messaging import courier_queue_name
from tests.customers.conftest import Shop
from tests.customers.test_dispatch import next_message, publish, request_for, wait_for_outbox
from tests.customers.test_releases import INTERNAL, release_body

LOGIN = "aigerim.test@example.kz"


@pytest.fixture
def vhost(fresh_vhost: str) -> str:
    """These tests read the courier queue and the outbox: a broker of their own."""
    return fresh_vhost


async def _signed_in(shop: Shop) -> tuple[str, str]:
    customer_id = await shop.register()
    return customer_id, await shop.login(LOGIN)


async def _outbox(shop: Shop, *types: str) -> list[tuple[str, dict[str, Any]]]:
    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT message_type, body FROM outbox WHERE message_type = ANY($1::text[])"
            " ORDER BY id",
            list(types),
        )
    finally:
        await conn.close()
    return [(row["message_type"], json.loads(row["body"])) for row in rows]


BLOCK_TYPES = (CustomerBlocked.MESSAGE_TYPE, CustomerUnblocked.MESSAGE_TYPE)


async def test_the_customer_blocks_and_unblocks_at_once(shop: Shop) -> None:
    customer_id, token = await _signed_in(shop)
    status, blocked = await shop.call("POST", "/api/customers/me/block", token=token)
    assert status == 202, blocked
    assert blocked["status"] == "completed" and "reason" not in blocked
    filed_at = datetime.fromisoformat(blocked["filed_at"])
    assert blocked["due"] == request_due("block", filed_at).isoformat()
    assert "orders placed before it are still delivered" in blocked["resolution"]
    status, me = await shop.call("GET", "/api/customers/me", token=token)
    assert status == 200 and me["status"] == "blocked"

    status, unblocked = await shop.call("DELETE", "/api/customers/me/block", token=token)
    assert status == 202 and unblocked["status"] == "completed"
    status, me = await shop.call("GET", "/api/customers/me", token=token)
    assert me["status"] == "active"

    status, requests = await shop.call("GET", "/api/customers/me/requests", token=token)
    assert status == 200
    assert [(r["id"], r["kind"], r["status"]) for r in requests["items"]] == [
        (unblocked["request_id"], "unblock", "completed"),
        (blocked["request_id"], "block", "completed"),
    ]
    events = await _outbox(shop, *BLOCK_TYPES)
    assert [(kind, body["version"]) for kind, body in events] == [
        (CustomerBlocked.MESSAGE_TYPE, 1),
        (CustomerUnblocked.MESSAGE_TYPE, 2),
    ]
    assert set(events[0][1]) == {"customer_id", "version", "at"}  # ids and times only
    assert events[0][1]["customer_id"] == customer_id
    conn = await shop.db()
    try:
        row = await conn.fetchrow(
            "SELECT filed_by, resolved_by, resolved_at FROM subject_requests WHERE id = $1",
            UUID(blocked["request_id"]),
        )
    finally:
        await conn.close()
    assert row["filed_by"] == row["resolved_by"] == f"customer:{customer_id}"
    assert row["resolved_at"] is not None


async def test_blocking_twice_changes_nothing_but_is_recorded(shop: Shop) -> None:
    _, token = await _signed_in(shop)
    await shop.call("POST", "/api/customers/me/block", token=token)
    status, again = await shop.call("POST", "/api/customers/me/block", token=token)
    assert status == 202 and again["status"] == "completed"
    assert "already blocked" in again["resolution"]
    await shop.call("DELETE", "/api/customers/me/block", token=token)
    status, twice = await shop.call("DELETE", "/api/customers/me/block", token=token)
    assert "was not blocked" in twice["resolution"]
    events = await _outbox(shop, *BLOCK_TYPES)
    assert [body["version"] for _, body in events] == [1, 2]
    _, requests = await shop.call("GET", "/api/customers/me/requests", token=token)
    assert [r["kind"] for r in requests["items"]] == ["unblock", "unblock", "block", "block"]


async def test_a_blocked_customer_keeps_their_own_access(shop: Shop) -> None:
    """Blocking stops the operator's processing; seeing, exporting and correcting one's own
    data are the subject's rights (policy 4.2.1: "at any time") and stay."""
    _, token = await _signed_in(shop)
    await shop.call("POST", "/api/customers/me/block", token=token)
    for path in ("/me", "/me/disclosures", "/me/consents", "/me/requests", "/me/export"):
        status, body = await shop.call("GET", f"/api/customers{path}", token=token)
        assert status == 200, (path, body)
    status, me = await shop.call(
        "PATCH", "/api/customers/me", token=token, json={"phone": "+7 702 111 22 33"}
    )
    assert status == 200, me
    assert me["phone"] == "+77021112233" and me["status"] == "blocked"
    status, _ = await shop.call(
        "POST", "/api/customers/me/requests", token=token, json={"kind": "access"}
    )
    assert status == 201


async def test_the_privacy_officer_blocks_and_unblocks_with_a_reason(shop: Shop) -> None:
    customer_id, token = await _signed_in(shop)
    path = f"/api/customers/privacy/customers/{customer_id}/block"
    officer = shop.officer_token()
    status, blocked = await shop.call(
        "POST",
        path,
        token=officer,
        json={"reason": "inaccurate_data", "note": "адрес проверяется по обращению"},
    )
    assert status == 202, blocked
    assert blocked["reason"] == "inaccurate_data" and blocked["status"] == "completed"
    assert blocked["resolution"].endswith("Note: адрес проверяется по обращению")
    _, me = await shop.call("GET", "/api/customers/me", token=token)
    assert me["status"] == "blocked"
    status, unblocked = await shop.call("DELETE", path, token=officer, json={"reason": "checked"})
    assert status == 202 and unblocked["reason"] == "checked"
    _, me = await shop.call("GET", "/api/customers/me", token=token)
    assert me["status"] == "active"

    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT kind, filed_by, reason FROM subject_requests ORDER BY filed_at"
        )
    finally:
        await conn.close()
    assert [(r["kind"], r["reason"]) for r in rows] == [
        ("block", "inaccurate_data"),
        ("unblock", "checked"),
    ]
    assert all(r["filed_by"].startswith("staff:") for r in rows)
    assert [v for _, v in await _outbox(shop, *BLOCK_TYPES)][-1]["version"] == 2


async def test_the_officer_routes_refuse_others_and_bad_input(shop: Shop) -> None:
    customer_id, token = await _signed_in(shop)
    path = f"/api/customers/privacy/customers/{customer_id}/block"
    body = {"reason": "subject_request"}
    for caller in (token, shop.officer_token("support"), None):
        status, problem = await shop.call("POST", path, token=caller, json=body)
        assert status in (401, 403), problem
    officer = shop.officer_token()
    status, problem = await shop.call(
        "POST", path, token=officer, json={"reason": "because +77012345678"}
    )
    assert status == 422 and "77012345678" not in json.dumps(problem)
    for missing in (str(uuid4()), "not-a-uuid"):
        status, problem = await shop.call(
            "POST", f"/api/customers/privacy/customers/{missing}/block", token=officer, json=body
        )
        assert status == 404, problem
    _, me = await shop.call("GET", "/api/customers/me", token=token)
    assert me["status"] == "active"


# --- Releases while blocked: only open obligations -------------------------------------------


async def _release(shop: Shop, customer_id: str, **overrides: object) -> tuple[int, Any]:
    return await shop.call(
        "POST", "/internal/releases", json=release_body(customer_id, **overrides), headers=INTERNAL
    )


async def _blocked_at(shop: Shop, customer_id: str) -> str:
    """When the customer's block began, as the register quotes it."""
    conn = await shop.db()
    try:
        at = await conn.fetchval(
            "SELECT blocked_at FROM customers WHERE id = $1", UUID(customer_id)
        )
    finally:
        await conn.close()
    return str(at.isoformat(timespec="seconds"))


async def test_only_an_order_placed_before_the_block_gets_its_status_mail(shop: Shop) -> None:
    customer_id, token = await _signed_in(shop)
    before = datetime.now(UTC) - timedelta(minutes=5)
    await shop.call("POST", "/api/customers/me/block", token=token)
    after = datetime.now(UTC) + timedelta(seconds=1)
    blocked_at = await _blocked_at(shop, customer_id)

    status, released = await _release(shop, customer_id, order_placed_at=before.isoformat())
    assert status == 200, released
    assert released["fields"]["email"] == LOGIN
    refused = [
        {"order_placed_at": after.isoformat()},  # placed after the block: no obligation
        {},  # when it was placed is not known
        {"order_ref": None, "order_placed_at": before.isoformat()},  # no order: the welcome
        {"purpose": "marketing", "order_placed_at": before.isoformat()},
    ]
    for overrides in refused:
        status, problem = await _release(shop, customer_id, **overrides)
        assert status == 409, (overrides, problem)
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    (item,) = register["items"]
    assert item["order_ref"] == "KZ-1001" and item["purpose"] == "service_communication"
    assert item["legal_basis"].startswith("consent to policy 2026-11-01")
    assert item["legal_basis"].endswith(
        "; processing is blocked: released for an open obligation under Law 94-V art. 8(2),"
        f" order KZ-1001 was placed before the block of {blocked_at}"
    )

    await shop.call("DELETE", "/api/customers/me/block", token=token)
    status, _ = await _release(shop, customer_id, order_ref=None)
    assert status == 200


async def test_the_block_itself_is_confirmed_to_the_customer_and_nothing_else(
    shop: Shop,
) -> None:
    """The confirmation that processing is stopped answers the customer's own request: its
    release names that notice, for no order; the notice opens nothing else."""
    customer_id, token = await _signed_in(shop)
    await shop.call("POST", "/api/customers/me/block", token=token)
    blocked_at = await _blocked_at(shop, customer_id)

    status, released = await _release(
        shop, customer_id, order_ref=None, notice="block_confirmation"
    )
    assert status == 200, released
    assert released["fields"]["email"] == LOGIN
    refused = [
        {"notice": "block_confirmation"},  # with an order placed at an unknown time
        {"order_ref": None, "notice": "block_confirmation", "purpose": "marketing"},
        {"order_ref": None},  # no notice: the welcome mail
    ]
    for overrides in refused:
        status, problem = await _release(shop, customer_id, **overrides)
        assert status == 409, (overrides, problem)
    status, problem = await _release(shop, customer_id, order_ref=None, notice="welcome")
    assert status == 422 and "welcome" not in json.dumps(problem)
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    (item,) = register["items"]
    assert item["order_ref"] is None and item["purpose"] == "service_communication"
    assert item["legal_basis"].endswith(
        f"; processing is blocked: released only to confirm to the customer the block of"
        f" {blocked_at} they asked for (Law 94-V art. 25(2)(8))"
    )


async def test_a_dispatch_of_an_order_placed_before_the_block_is_released(shop: Shop) -> None:
    """Through the broker: the open obligation reaches the courier and the register says
    why; an order placed after the block is refused."""
    customer_id, token = await _signed_in(shop)
    placed_before = datetime.now(UTC)
    await shop.block(customer_id)
    before = request_for(customer_id).model_copy(update={"placed_at": placed_before})
    await publish(shop.settings.amqp_url, before)
    message = await next_message(shop.settings.amqp_url, courier_queue_name("sandbox"))
    assert message.type == DispatchMessage.MESSAGE_TYPE
    assert json.loads(message.body)["recipient"]["phone"] == "+77012345678"
    released = await wait_for_outbox(shop, "customers.dispatch.released")
    assert json.loads(released["body"])["dispatch_id"] == str(before.dispatch_id)
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    (item,) = register["items"]
    assert item["recipient"] == "courier:sandbox" and item["order_ref"] == "KZ-2002"
    assert "open obligation under Law 94-V art. 8(2)" in item["legal_basis"]

    after = request_for(customer_id).model_copy(
        update={"placed_at": datetime.now(UTC) + timedelta(seconds=1)}
    )
    await publish(shop.settings.amqp_url, after)
    refused = await wait_for_outbox(shop, "customers.dispatch.refused")
    assert json.loads(refused["body"]) == {
        "dispatch_id": str(after.dispatch_id),
        "order_id": str(after.order_id),
        "reason": "customer_blocked",
    }
