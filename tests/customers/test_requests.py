"""The data subject's requests (``/api/customers/me/requests``): filed on the law's clock,
answered at once where self-service answers them, the customer's words sealed."""

from __future__ import annotations

from datetime import UTC, date, datetime
from uuid import UUID

import pytest

from services.customers.rights import request_due, working_days
from tests.customers.conftest import Shop

DETAIL = "Прошу пересмотреть отказ в оформлении заказа, Жумабекова"


async def _customer(shop: Shop, **overrides: object) -> tuple[str, str]:
    customer_id = await shop.register(**overrides)
    login = str(overrides.get("email", "aigerim.test@example.kz")).lower()
    return customer_id, await shop.login(login)


@pytest.mark.parametrize(
    ("filed_at", "kind", "due"),
    [
        # Thursday 22:30 in Almaty: filed that day, one working day later is Friday.
        (datetime(2026, 12, 3, 17, 30, tzinfo=UTC), "erase", date(2026, 12, 4)),
        # 00:30 on Friday in Almaty (still Thursday in UTC): the weekend is skipped.
        (datetime(2026, 12, 3, 19, 30, tzinfo=UTC), "erase", date(2026, 12, 7)),
        (datetime(2026, 12, 3, 19, 30, tzinfo=UTC), "objection", date(2026, 12, 9)),
        # Ten working days over Independence Day (16 December).
        (datetime(2026, 12, 3, 19, 30, tzinfo=UTC), "transfer_notice", date(2026, 12, 21)),
        (datetime(2026, 12, 3, 19, 30, tzinfo=UTC), "withdraw_consent", date(2026, 12, 28)),
        # Nauryz 2026 (21-23 March) falls partly on a weekend: its days off move to 24-25.
        (datetime(2026, 3, 20, 6, 0, tzinfo=UTC), "block", date(2026, 3, 26)),
    ],
)
def test_due_dates_follow_the_law_and_the_calendar(
    filed_at: datetime, kind: str, due: date
) -> None:
    assert request_due(kind, filed_at) == due  # type: ignore[arg-type]


def test_access_has_the_operators_own_deadline() -> None:
    assert working_days("access", access_days=5) == 5
    filed = datetime(2026, 12, 3, 19, 30, tzinfo=UTC)
    assert request_due("access", filed, access_days=1) == date(2026, 12, 7)


async def test_access_request_is_answered_at_once(shop: Shop) -> None:
    _, token = await _customer(shop)
    status, filed = await shop.call(
        "POST", "/api/customers/me/requests", token=token, json={"kind": "access"}
    )
    assert status == 201, filed
    assert filed["kind"] == "access" and filed["status"] == "completed"
    assert "/api/customers/me/export" in filed["resolution"]
    filed_at = datetime.fromisoformat(filed["filed_at"])
    assert filed["due"] == request_due("access", filed_at).isoformat()
    assert filed["resolved_at"]


@pytest.mark.parametrize(
    ("kind", "days"), [("objection", 3), ("withdraw_consent", 15), ("rectification", 1)]
)
async def test_manual_requests_wait_on_the_desk_with_their_due_date(
    shop: Shop, kind: str, days: int
) -> None:
    _, token = await _customer(shop)
    status, filed = await shop.call(
        "POST", "/api/customers/me/requests", token=token, json={"kind": kind, "detail": DETAIL}
    )
    assert status == 201, filed
    assert filed["status"] == "received" and filed["overdue"] is False
    filed_at = datetime.fromisoformat(filed["filed_at"])
    assert working_days(kind) == days  # type: ignore[arg-type]
    assert filed["due"] == request_due(kind, filed_at).isoformat()  # type: ignore[arg-type]
    status, listed = await shop.call("GET", "/api/customers/me/requests", token=token)
    assert status == 200
    assert [(item["id"], item["detail"]) for item in listed["items"]] == [(filed["id"], DETAIL)]


async def test_the_detail_is_sealed_under_the_customers_key(shop: Shop) -> None:
    customer_id, token = await _customer(shop)
    await shop.call(
        "POST",
        "/api/customers/me/requests",
        token=token,
        json={"kind": "objection", "detail": DETAIL},
    )
    conn = await shop.db()
    try:
        row = await conn.fetchrow(
            "SELECT detail, filed_by FROM subject_requests WHERE customer_id = $1",
            UUID(customer_id),
        )
        dump = await conn.fetchval("SELECT string_agg(t::text, ' ') FROM subject_requests t")
    finally:
        await conn.close()
    assert row["filed_by"] == f"customer:{customer_id}"
    assert DETAIL.encode() not in bytes(row["detail"])
    assert "Жумабекова" not in dump and "пересмотреть" not in dump


async def test_each_customer_sees_only_their_own_requests(shop: Shop) -> None:
    _, first = await _customer(shop)
    _, second = await _customer(shop, email="other@example.kz", phone="+7 702 000 00 01")
    await shop.call("POST", "/api/customers/me/requests", token=first, json={"kind": "access"})
    status, listed = await shop.call("GET", "/api/customers/me/requests", token=second)
    assert status == 200 and listed["items"] == []


@pytest.mark.parametrize(
    "body",
    [
        {"kind": "erase"},  # has its own route, with the password
        {"kind": "block"},
        {"kind": "delete everything Жумабекова"},
        {"kind": "objection", "detail": "x" * 2001},
        {"kind": "objection", "detail": "hidden \u202e text"},
        {"kind": "access", "extra": "Жумабекова"},
        {"kind": ["access"]},
    ],
)
async def test_bad_requests_are_422_and_quote_nothing(shop: Shop, body: dict) -> None:
    _, token = await _customer(shop)
    status, problem = await shop.call("POST", "/api/customers/me/requests", token=token, json=body)
    assert status == 422, problem
    text = str(problem)
    assert "Жумабекова" not in text and "delete everything" not in text and "xxxx" not in text
    _, listed = await shop.call("GET", "/api/customers/me/requests", token=token)
    assert listed["items"] == []


async def test_requests_need_a_signed_in_customer(shop: Shop) -> None:
    status, problem = await shop.call("POST", "/api/customers/me/requests", json={"kind": "access"})
    assert status == 401, problem
    status, _ = await shop.call("GET", "/api/customers/me/requests")
    assert status == 401
