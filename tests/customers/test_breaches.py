"""The breach register of the privacy officer's desk: the 1-working-day clock of the notice on
Kazakhstan's real calendar, the order of the desk, the notice's draft with its releases, the
role checks and bad input."""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from services.customers.keys import ACCOUNTS
from tests.customers.conftest import MakeShop, Shop
from tests.customers.desk_helpers import (
    audit_rows,
    officer,
    refused_quoting_nothing,
    staff_member,
)

BREACHES = "/api/customers/privacy/breaches"
SECRET_TEXT = "ноутбук курьера Ержана украден у ТРЦ Mega"
MEASURES = "пароли сброшены, доступ курьеров отозван"


def breach(detected_at: datetime, **extra: Any) -> dict[str, Any]:
    return {"description": SECRET_TEXT, "detected_at": detected_at.isoformat(), **extra}


def almaty(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC) - timedelta(hours=5)  # the time given is Almaty's


async def test_the_notice_is_due_one_working_day_after_detection(shop: Shop) -> None:
    desk = await officer(shop)
    cases = {
        # Thursday 2 January 2025: the 3rd was a day off transferred from Sunday the 5th,
        # which was a working day: the notice is due that Sunday.
        almaty(2025, 1, 2, 16, 0): "2025-01-05",
        # Friday 20 March 2026: Nauryz 21-23 March with the 24th and 25th off in lieu.
        almaty(2026, 3, 20, 9, 30): "2026-03-26",
        # 20:00 UTC on Sunday 14 December 2025 is already Monday the 15th in Almaty, and the
        # Almaty date counts: Tuesday the 16th is Independence Day, Wednesday is due.
        datetime(2025, 12, 14, 20, 0, tzinfo=UTC): "2025-12-17",
    }
    for detected, due in cases.items():
        status, body = await shop.call("POST", BREACHES, token=desk.token, json=breach(detected))
        assert status == 201, body
        assert body["notice_due"] == due, detected
        assert datetime.fromisoformat(body["detected_at"]) == detected
        assert body["notice_sent_at"] is None and body["subjects"] == 0


async def test_overdue_notices_come_first_then_pending_then_sent(shop: Shop) -> None:
    desk = await officer(shop)
    ids = {}
    for name, detected in (
        ("sent", almaty(2025, 1, 2, 10, 0)),
        ("fresh", datetime.now(UTC) - timedelta(minutes=1)),
        ("overdue", almaty(2026, 3, 20, 9, 30)),
    ):
        status, body = await shop.call("POST", BREACHES, token=desk.token, json=breach(detected))
        assert status == 201
        ids[name] = body["id"]
    status, sent = await shop.call(
        "POST", f"{BREACHES}/{ids['sent']}/notice-sent", token=desk.token
    )
    assert status == 200 and sent["notice_sent_at"] and not sent["overdue"]
    status, again = await shop.call(
        "POST", f"{BREACHES}/{ids['sent']}/notice-sent", token=desk.token
    )
    assert status == 409 and again["title"] == "Notice already sent"

    status, page = await shop.call("GET", BREACHES, token=desk.token)
    assert status == 200
    assert [item["id"] for item in page["items"]] == [ids["overdue"], ids["fresh"], ids["sent"]]
    assert [item["overdue"] for item in page["items"]] == [True, False, False]
    assert page["items"][0]["description"] == SECRET_TEXT and page["next_cursor"] is None

    # Page by page (shared.paging's cursor) gives the same order.
    walked, cursor = [], None
    while True:
        query = f"?limit=1&cursor={cursor}" if cursor else "?limit=1"
        status, page = await shop.call("GET", BREACHES + query, token=desk.token)
        assert status == 200
        walked += [item["id"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert walked == [ids["overdue"], ids["fresh"], ids["sent"]]


async def test_the_notice_draft_carries_names_and_mobiles_released_once(
    shop_factory: MakeShop,
) -> None:
    shop = await shop_factory(
        privacy_officer_name="Сауле Ахметова", privacy_officer_contact="dpo@jetu.kz"
    )
    aigerim = await shop.register()
    bolat = await shop.register(
        email="bolat@example.kz", phone="+77019998877", first_name="Болат", last_name="Сериков",
        patronymic=None,
    )  # fmt: skip
    untouched = await shop.register(email="third@example.kz", phone="+77015550011")
    desk = await officer(shop)
    detected = datetime.now(UTC) - timedelta(hours=2)
    status, created = await shop.call(
        "POST",
        BREACHES,
        token=desk.token,
        json=breach(detected, measures=MEASURES, customer_ids=[aigerim, bolat, aigerim]),
    )
    assert status == 201 and created["subjects"] == 2

    status, draft = await shop.call("GET", f"{BREACHES}/{created['id']}/notice", token=desk.token)
    assert status == 200, draft
    assert draft["operator"] == {"name": shop.settings.operator_name, "bin": "240440017017"}
    assert draft["responsible_person"] == {"name": "Сауле Ахметова", "contact": "dpo@jetu.kz"}
    assert draft["what_happened"] == SECRET_TEXT and draft["measures"] == MEASURES
    assert draft["detected_at"] == detected.isoformat()
    assert draft["notice_due"] == created["notice_due"]
    assert sorted(draft["subjects"], key=lambda s: s["phone"]) == [
        {"full_name": "Жумабекова Айгерим Нурлановна", "phone": "+77012345678"},
        {"full_name": "Сериков Болат", "phone": "+77019998877"},
    ]
    assert draft["withheld"] == {"erased": 0, "blocked": 0}

    # Each affected subject finds the release in their register; the third does not.
    logins = (("+77012345678", True), ("bolat@example.kz", True), ("third@example.kz", False))
    for login, touched in logins:
        token = await shop.login(login)
        status, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
        legal = [d for d in register["items"] if d["purpose"] == "legal_request"]
        if not touched:
            assert legal == []
            continue
        assert len(legal) == 1
        assert legal[0]["fields"] == ["full_name", "phone"]
        assert legal[0]["recipient"].startswith("authority:")
        assert "25(2)(8)" in legal[0]["legal_basis"]

    # A second draft reads the same fields again (audited) but is not a second release.
    status, second = await shop.call("GET", f"{BREACHES}/{created['id']}/notice", token=desk.token)
    assert status == 200 and second["subjects"] == draft["subjects"]
    token = await shop.login("+77012345678")
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    assert len([d for d in register["items"] if d["purpose"] == "legal_request"]) == 1
    reads = [
        row
        for row in await audit_rows(shop, aigerim)
        if row["purpose"] == "legal_request" and row["actor"] == f"staff:{desk.id}"
    ]
    assert len(reads) == 2
    assert set(reads[0]["fields"]) == {"last_name", "first_name", "patronymic", "phone"}
    assert not [r for r in await audit_rows(shop, untouched) if r["purpose"] == "legal_request"]


async def test_later_measures_and_subjects_amend_the_breach_not_its_clock(shop: Shop) -> None:
    first = await shop.register()
    second = await shop.register(email="bolat@example.kz", phone="+77019998877")
    desk = await officer(shop)
    _, created = await shop.call(
        "POST", BREACHES, token=desk.token,
        json=breach(almaty(2026, 3, 20, 9, 30), measures=MEASURES, customer_ids=[first]),
    )  # fmt: skip
    _, draft = await shop.call("GET", f"{BREACHES}/{created['id']}/notice", token=desk.token)
    assert [s["phone"] for s in draft["subjects"]] == ["+77012345678"]
    later = "пароли сброшены; планшет заблокирован удалённо"
    status, amended = await shop.call(
        "PATCH", f"{BREACHES}/{created['id']}", token=desk.token,
        json={"measures": later, "add_customer_ids": [second, first]},
    )  # fmt: skip
    assert status == 200, amended
    assert amended["measures"] == later and amended["subjects"] == 2
    assert amended["notice_due"] == created["notice_due"] == "2026-03-26"
    _, draft = await shop.call("GET", f"{BREACHES}/{created['id']}/notice", token=desk.token)
    assert sorted(s["phone"] for s in draft["subjects"]) == ["+77012345678", "+77019998877"]
    assert draft["measures"] == later
    conn = await shop.db()
    try:
        released = await conn.fetch(
            "SELECT customer_id, count(*) AS n FROM disclosures WHERE purpose = 'legal_request'"
            " GROUP BY customer_id"
        )
    finally:
        await conn.close()
    assert {str(r["customer_id"]): r["n"] for r in released} == {first: 1, second: 1}
    for body, expected in (
        ({}, 422),
        ({"add_customer_ids": [str(uuid4())]}, 422),
        ({"measures": "скрыто\u202e"}, 422),
        ({"measures": later, "description": "другое"}, 422),
    ):
        status, problem = await shop.call(
            "PATCH", f"{BREACHES}/{created['id']}", token=desk.token, json=body
        )
        assert status == expected, body
        assert "скрыто" not in str(problem) and "другое" not in str(problem)
    status, _ = await shop.call(
        "PATCH", f"{BREACHES}/{uuid4()}", token=desk.token, json={"measures": later}
    )
    assert status == 404


async def test_blocked_subjects_are_withheld_from_the_notice(shop: Shop) -> None:
    customer = await shop.register()
    await shop.block(customer)
    desk = await officer(shop)
    _, created = await shop.call(
        "POST", BREACHES, token=desk.token,
        json=breach(datetime.now(UTC), customer_ids=[customer]),
    )  # fmt: skip
    status, draft = await shop.call("GET", f"{BREACHES}/{created['id']}/notice", token=desk.token)
    assert status == 200
    assert draft["subjects"] == [] and draft["withheld"] == {"erased": 0, "blocked": 1}


async def test_a_shredded_subject_is_counted_not_listed(shop: Shop) -> None:
    kept = await shop.register()
    shredded = await shop.register(email="bolat@example.kz", phone="+77019998877")
    conn = await shop.db()
    try:
        await shop.app[ACCOUNTS].gate.shred(conn, UUID(shredded))  # as erasure shreds
    finally:
        await conn.close()
    desk = await officer(shop)
    _, created = await shop.call(
        "POST", BREACHES, token=desk.token,
        json=breach(datetime.now(UTC), customer_ids=[kept, shredded]),
    )  # fmt: skip
    status, draft = await shop.call("GET", f"{BREACHES}/{created['id']}/notice", token=desk.token)
    assert status == 200
    assert [s["phone"] for s in draft["subjects"]] == ["+77012345678"]
    assert draft["withheld"] == {"erased": 1, "blocked": 0}


async def test_the_description_and_the_subjects_never_reach_the_logs(
    shop: Shop, captured_logs: io.StringIO
) -> None:
    customer = await shop.register()
    desk = await officer(shop)
    _, created = await shop.call(
        "POST", BREACHES, token=desk.token,
        json=breach(datetime.now(UTC), measures=MEASURES, customer_ids=[customer]),
    )  # fmt: skip
    await shop.call("GET", f"{BREACHES}/{created['id']}/notice", token=desk.token)
    await shop.call("GET", BREACHES, token=desk.token)
    logs = captured_logs.getvalue()
    assert "breach recorded" in logs and "breach notice drafted" in logs
    for needle in ("Ержана", "Mega", "пароли сброшены", "Жумабекова", "+77012345678"):
        assert needle not in logs


async def test_only_the_privacy_officer_reaches_the_register(shop: Shop) -> None:
    customer = await shop.register()
    customer_token = await shop.login("+77012345678")
    desk = await officer(shop)
    _, created = await shop.call("POST", BREACHES, token=desk.token, json=breach(datetime.now(UTC)))
    support = await staff_member(shop, "support@shop.kz", "support", "marketer", "analyst")
    routes = (
        ("GET", BREACHES, None),
        ("POST", BREACHES, breach(datetime.now(UTC), customer_ids=[customer])),
        ("GET", f"{BREACHES}/{created['id']}", None),
        ("PATCH", f"{BREACHES}/{created['id']}", {"measures": MEASURES}),
        ("GET", f"{BREACHES}/{created['id']}/notice", None),
        ("POST", f"{BREACHES}/{created['id']}/notice-sent", None),
    )
    for method, path, body in routes:
        for token, expected in ((customer_token, 403), (support.token, 403), (None, 401)):
            status, answer = await shop.call(method, path, token=token, json=body)
            assert status == expected, (method, path, status)
            assert SECRET_TEXT not in str(answer)
    _, still = await shop.call("GET", f"{BREACHES}/{created['id']}", token=desk.token)
    assert still["notice_sent_at"] is None


async def test_bad_input_is_a_problem_quoting_nothing(shop: Shop) -> None:
    desk = await officer(shop)
    now = datetime.now(UTC)
    unknown = str(uuid4())
    bad_bodies = (
        breach(now, customer_ids=[unknown]),  # not a customer
        breach(now + timedelta(days=1)),  # detected tomorrow
        {"description": SECRET_TEXT, "detected_at": "2026-03-20T10:00:00"},  # no time zone
        {"description": "ноутбук\x00украден", "detected_at": now.isoformat()},
        {"description": "   ", "detected_at": now.isoformat()},
        {**breach(now), "severity": "high"},
        {"detected_at": now.isoformat()},
        breach(now, customer_ids=["not-a-uuid"]),
    )
    for body in bad_bodies:
        status, answer = await shop.call("POST", BREACHES, token=desk.token, json=body)
        assert status == 422, body
        text = str(answer)
        for sent in ("ноутбук", "Ержана", unknown, "not-a-uuid", "high", "2026-03-20T10"):
            assert sent not in text
    status, answer = await shop.call("POST", BREACHES, token=desk.token, json=bad_bodies[0])
    assert answer["unknown"] == 1
    await refused_quoting_nothing(
        shop,
        desk.token,
        (
            (f"{BREACHES}?cursor=bm90LW91cnM", 422),
            (f"{BREACHES}?limit=0", 422),
            (f"{BREACHES}/{uuid4()}", 404),
            (f"{BREACHES}/not-an-id/notice", 404),
            (f"{BREACHES}/{uuid4()}/notice", 404),
        ),
        ("bm90LW91cnM", "not-an-id"),
    )
    status, _ = await shop.call("POST", f"{BREACHES}/{uuid4()}/notice-sent", token=desk.token)
    assert status == 404
    conn = await shop.db()
    try:
        assert await conn.fetchval("SELECT count(*) FROM breaches") == 0
    finally:
        await conn.close()
