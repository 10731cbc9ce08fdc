"""The privacy officer's queue of data-subject requests: due dates on Kazakhstan's calendar,
overdue first, filters and paging, reasoned answers the customer reads, the withdrawal of
consent stopping the processing, the role checks and bad input."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from datetime import UTC, date, datetime
from typing import Any
from uuid import UUID, uuid4

from services.customers.keys import ACCOUNTS
from services.customers.rights import request_due
from services.customers.subject_requests import file
from tests.customers.conftest import Keys, MakeShop, Shop
from tests.customers.desk_helpers import (
    Staff,
    audit_rows,
    officer,
    refused_quoting_nothing,
    staff_member,
    walk,
)
from tests.customers.test_answers import check_answer
from tests.customers.test_staff_cli import ROOT, cli_env

QUEUE = "/api/customers/privacy/requests"
MINE = "/api/customers/me/requests"
DETAIL = "Прошу пересмотреть отказ: я Жумабекова, заказ для мамы"
ANSWER = "Отказ пересмотрен сотрудником: лимит был превышен тремя заказами за час."


async def file_request(shop: Shop, token: str, kind: str, detail: str | None = None) -> str:
    body: dict[str, Any] = {"kind": kind} | ({"detail": detail} if detail else {})
    status, filed = await shop.call("POST", MINE, token=token, json=body)
    assert status == 201, filed
    return str(filed["id"])


async def backdate(shop: Shop, request_id: str, filed_at: datetime, kind: str) -> date:
    """As if the request had been filed at ``filed_at`` (its due date from the calendar)."""
    due = request_due(kind, filed_at)  # type: ignore[arg-type]
    conn = await shop.db()
    try:
        await conn.execute(
            "UPDATE subject_requests SET filed_at = $2, due = $3 WHERE id = $1",
            UUID(request_id),
            filed_at,
            due,
        )
    finally:
        await conn.close()
    return due


async def resolve(shop: Shop, desk: Staff, request_id: object, body: dict[str, Any]) -> Any:
    """The officer's answer to a request at the desk: its status and body (a success checked
    against its schema: the erasure it started, in progress or deferred, is only here)."""
    status, answered = await shop.call(
        "POST", f"{QUEUE}/{request_id}/resolve", token=desk.token, json=body
    )
    if status == 200:
        check_answer(f"POST {QUEUE}/{{request_id}}/resolve", answered)
    return status, answered


async def test_the_queue_shows_due_dates_overdue_first(shop: Shop) -> None:
    await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    desk = await officer(shop)
    withdrawal = await file_request(shop, token, "withdraw_consent")
    rectification = await file_request(shop, token, "rectification")
    objection = await file_request(shop, token, "objection", DETAIL)
    access = await file_request(shop, token, "access")  # answered at once
    # The objection was filed on Thursday 2 January 2025 in Almaty: 3 working days are
    # Sunday the 5th (a working day transferred from the 3rd), Monday the 6th and, past
    # Orthodox Christmas on the 7th, Wednesday the 8th.
    due = await backdate(shop, objection, datetime(2025, 1, 2, 5, 0, tzinfo=UTC), "objection")
    assert due == date(2025, 1, 8)
    # Filed on Friday 20 March 2026: Nauryz (21-23) and its days off (24-25) pass first.
    due = await backdate(
        shop, rectification, datetime(2026, 3, 20, 6, 0, tzinfo=UTC), "rectification"
    )
    assert due == date(2026, 3, 26)

    status, page = await shop.call("GET", QUEUE, token=desk.token)
    assert status == 200, page
    assert [item["id"] for item in page["items"]] == [objection, rectification, withdrawal]
    first = page["items"][0]
    assert first["overdue"] is True and first["due"] == "2025-01-08"
    assert first["kind"] == "objection" and first["status"] == "received"
    assert first["customer_id"] and first["filed_by"].startswith("customer:")
    assert "detail" not in first  # the customer's words only on the request's own page
    assert page["items"][2]["overdue"] is False

    status, page = await shop.call("GET", f"{QUEUE}?kind=objection", token=desk.token)
    assert [item["id"] for item in page["items"]] == [objection]
    status, page = await shop.call("GET", f"{QUEUE}?status=completed", token=desk.token)
    assert [item["id"] for item in page["items"]] == [access]
    walked = await walk(shop, desk.token, f"{QUEUE}?status=all")
    assert walked == [objection, rectification, withdrawal, access]


async def test_a_refused_objection_is_answered_with_its_reason(shop: Shop) -> None:
    customer = await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    desk = await officer(shop)
    objection = await file_request(shop, token, "objection", DETAIL)

    status, one = await shop.call("GET", f"{QUEUE}/{objection}", token=desk.token)
    assert status == 200 and one["detail"] == DETAIL
    [read] = [r for r in await audit_rows(shop, customer) if r["fields"] == ["request_detail"]]
    assert read["actor"] == f"staff:{desk.id}" and read["purpose"] == "support"

    path = f"{QUEUE}/{objection}/resolve"
    status, problem = await shop.call(
        "POST", path, token=desk.token, json={"outcome": "refused", "answer": ANSWER}
    )
    assert status == 422 and ANSWER not in str(problem)  # a refusal needs a reason
    body = {"outcome": "refused", "answer": ANSWER, "reason": "decision_upheld"}
    status, answered = await shop.call("POST", path, token=desk.token, json=body)
    assert status == 200, answered
    assert answered["status"] == "refused" and answered["reason"] == "decision_upheld"
    assert answered["resolved_by"] == f"staff:{desk.id}"
    status, again = await shop.call("POST", path, token=desk.token, json=body)
    assert status == 409 and again["title"] == "Already answered"

    _, mine = await shop.call("GET", MINE, token=token)
    [item] = mine["items"]
    assert item["status"] == "refused" and item["resolution"] == ANSWER
    assert item["reason"] == "decision_upheld" and item["resolved_at"]
    _, page = await shop.call("GET", QUEUE, token=desk.token)
    assert page["items"] == []  # nothing open any more


async def test_a_completed_withdrawal_stops_the_processing(shop: Shop) -> None:
    customer = await shop.register(marketing={"email": True, "sms": True})
    token = await shop.login("aigerim.test@example.kz")
    desk = await officer(shop)
    withdrawal = await file_request(shop, token, "withdraw_consent", "Отзываю согласие")
    answer = "Согласие отозвано, обработка прекращена."
    status, answered = await resolve(
        shop, desk, withdrawal, {"outcome": "completed", "answer": answer}
    )
    assert status == 200, answered
    assert answered["status"] == "completed" and "reason" not in answered
    assert answered["resolution"] == answer
    # Processing stops: the account is erased (no orders service here, so nothing is owed:
    # shredded at once, the other services' confirmations due).
    erasure = answered["erasure"]
    assert erasure["status"] == "in_progress" and erasure["confirmations"]
    status, _ = await shop.call("GET", MINE, token=token)
    assert status == 401  # every session ended at once
    status, _ = await shop.call(
        "POST",
        "/api/customers/login",
        json={"login": "aigerim.test@example.kz", "password": "correct horse battery"},
    )
    assert status == 401
    conn = await shop.db()
    try:
        live = await conn.fetch(
            "SELECT DISTINCT ON (kind) kind, granted, record FROM consents"
            " WHERE customer_id = $1 ORDER BY kind, id DESC",
            UUID(customer),
        )
        types = await conn.fetch("SELECT message_type FROM outbox")
        requests = await conn.fetch(
            "SELECT id, kind, status, resolution FROM subject_requests WHERE customer_id = $1",
            UUID(customer),
        )
    finally:
        await conn.close()
    key = await shop.app[ACCOUNTS].gate.keys.get(UUID(customer))
    assert {row["kind"]: row["granted"] for row in live} == {
        "pd_processing": False,
        "marketing_email": False,
        "marketing_sms": False,
    }
    [processing] = [row for row in live if row["kind"] == "pd_processing"]
    assert '"withdrawn_by_request": "' + withdrawal in processing["record"]
    sent = [row["message_type"] for row in types]
    assert sent.count("customers.consent.changed") >= 2  # both channels withdrawn
    assert "customers.customer.erased" in sent
    assert key is None  # the data key is destroyed: nothing of the person opens again
    by_kind = {row["kind"]: row for row in requests}
    assert by_kind["withdraw_consent"]["status"] == "completed"
    assert by_kind["withdraw_consent"]["resolution"] == answer  # kept as evidence
    assert str(by_kind["erase"]["id"]) == erasure["request_id"]


async def test_a_withdrawal_completed_while_orders_cannot_answer_defers_the_erasure(
    shop_factory: MakeShop,
) -> None:
    # An orders service that does not answer: what may still be owed is unknown (art. 8(2)).
    shop = await shop_factory(orders_url="http://127.0.0.1:9")
    await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    desk = await officer(shop)
    withdrawal = await file_request(shop, token, "withdraw_consent")
    status, answered = await resolve(
        shop, desk, withdrawal, {"outcome": "completed", "answer": "Обработка прекращается."}
    )
    assert status == 200, answered
    assert answered["erasure"]["status"] == "deferred"
    assert answered["erasure"]["reason"] == "checking"
    status, _ = await shop.call("GET", MINE, token=token)
    assert status == 401  # the account is closed at once all the same


async def test_a_withdrawal_refused_for_an_open_obligation_changes_no_consent(shop: Shop) -> None:
    customer = await shop.register(marketing={"email": True, "sms": False})
    token = await shop.login("aigerim.test@example.kz")
    desk = await officer(shop)
    withdrawal = await file_request(shop, token, "withdraw_consent")
    answer = "Заказ в доставке (ст. 8 п. 2): обработка прекратится после его вручения."
    status, answered = await resolve(
        shop,
        desk,
        withdrawal,
        {"outcome": "refused", "answer": answer, "reason": "open_obligation"},
    )
    assert status == 200 and answered["reason"] == "open_obligation"
    _, consents = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert consents["marketing"] == {"email": True, "sms": False}
    conn = await shop.db()
    try:
        withdrawn = await conn.fetchval(
            "SELECT count(*) FROM consents WHERE customer_id = $1 AND NOT granted"
            " AND kind = 'pd_processing'",
            UUID(customer),
        )
    finally:
        await conn.close()
    assert withdrawn == 0


async def test_block_and_erasure_requests_are_not_closed_by_hand(shop: Shop) -> None:
    customer = UUID(await shop.register())
    desk = await officer(shop)
    conn = await shop.db()
    try:
        async with conn.transaction():  # as the erasure use case files it: already at work
            erase = await file(
                conn,
                shop.app[ACCOUNTS].gate,
                customer,
                "erase",
                filed_by=f"customer:{customer}",
                status="in_progress",
            )
    finally:
        await conn.close()
    status, problem = await resolve(
        shop, desk, erase.id, {"outcome": "completed", "answer": "готово"}
    )
    assert status == 409 and problem["title"] == "Not answered at the desk"
    _, page = await shop.call("GET", f"{QUEUE}?kind=erase", token=desk.token)
    assert page["items"][0]["status"] == "in_progress"
    assert page["items"][0]["answered_at_desk"] is False


async def test_page_requests_from_before_self_service_are_carried_out_at_the_desk(
    shop: Shop,
) -> None:
    """Block and erase requests the pages recorded before either was self-service (migration
    0012 copied them in as received) are done when the officer completes them."""
    blocked, erased = (
        UUID(await shop.register()),
        UUID(await shop.register(email="second@example.kz", phone="+7 702 000 00 02")),
    )
    desk = await officer(shop)
    conn = await shop.db()
    try:
        ids = {}
        for customer, kind in ((blocked, "block"), (erased, "erase")):
            ids[kind] = uuid4()
            await conn.execute(
                "INSERT INTO subject_requests (id, customer_id, kind, status, due, filed_by)"
                " VALUES ($1, $2, $3, 'received', current_date + 1, $4)",
                ids[kind],
                customer,
                kind,
                f"customer:{customer}",
            )
    finally:
        await conn.close()
    for kind in ("block", "erase"):
        _, page = await shop.call("GET", f"{QUEUE}?kind={kind}", token=desk.token)
        assert page["items"][0]["answered_at_desk"] is True
        status, body = await resolve(
            shop, desk, ids[kind], {"outcome": "completed", "answer": "Сделано по вашей просьбе."}
        )
        assert status == 200, body
    conn = await shop.db()
    try:
        states = {
            row["id"]: row["status"]
            for row in await conn.fetch(
                "SELECT id, status FROM customers WHERE id = ANY($1::uuid[])", [blocked, erased]
            )
        }
        legacy = await conn.fetch(
            "SELECT status FROM subject_requests WHERE id = ANY($1::uuid[])", list(ids.values())
        )
    finally:
        await conn.close()
    assert states == {blocked: "blocked", erased: "erased"}
    assert [row["status"] for row in legacy] == ["completed", "completed"]


async def test_only_the_privacy_officer_reaches_the_queue(shop: Shop) -> None:
    await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    objection = await file_request(shop, token, "objection", DETAIL)
    support = await staff_member(shop, "support@shop.kz", "support", "marketer", "analyst")
    body = {"outcome": "completed", "answer": ANSWER}
    for method, path, payload in (
        ("GET", QUEUE, None),
        ("GET", f"{QUEUE}/{objection}", None),
        ("POST", f"{QUEUE}/{objection}/resolve", body),
    ):
        for who, expected in ((token, 403), (support.token, 403), (None, 401)):
            status, answer = await shop.call(method, path, token=who, json=payload)
            assert status == expected, (method, path, status)
            assert "Жумабекова" not in str(answer)
    _, mine = await shop.call("GET", MINE, token=token)
    assert mine["items"][0]["status"] == "received"


async def test_bad_input_is_a_problem_quoting_nothing(shop: Shop) -> None:
    await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    objection = await file_request(shop, token, "objection", DETAIL)
    desk = await officer(shop)
    path = f"{QUEUE}/{objection}/resolve"
    for body in (
        {"outcome": "approved", "answer": ANSWER},
        {"outcome": "completed", "answer": ""},
        {"outcome": "completed", "answer": "скрыто \u202e Жумабекова"},
        {"outcome": "completed", "answer": ANSWER, "reason": "unfounded"},
        {"outcome": "refused", "answer": ANSWER, "reason": "because Жумабекова"},
        {"outcome": "completed", "answer": ANSWER, "customer_id": str(uuid4())},
        {"outcome": "completed", "answer": "x" * 2001},
    ):
        status, problem = await shop.call("POST", path, token=desk.token, json=body)
        assert status == 422, body
        for sent in ("Жумабекова", "approved", "пересмотрен", "xxxx"):
            assert sent not in str(problem)
    await refused_quoting_nothing(
        shop,
        desk.token,
        (
            (f"{QUEUE}?status=late", 422),
            (f"{QUEUE}?kind=everything", 422),
            (f"{QUEUE}?cursor=garbage", 422),
            (f"{QUEUE}?limit=1000", 422),
            (f"{QUEUE}/{uuid4()}", 404),
            (f"{QUEUE}/not-an-id", 404),
        ),
        ("everything", "garbage"),
    )
    status, _ = await resolve(shop, desk, uuid4(), {"outcome": "completed", "answer": ANSWER})
    assert status == 404
    _, mine = await shop.call("GET", MINE, token=token)
    assert mine["items"][0]["status"] == "received"


async def privacy_cli(shop: Shop, env: dict[str, str], *args: str) -> tuple[int, str, str]:
    command = [sys.executable, "-m", "services.customers", "privacy", *args]
    done = await asyncio.to_thread(
        subprocess.run, command, env=env, cwd=ROOT, capture_output=True, check=False, timeout=60
    )
    return done.returncode, done.stdout.decode(), done.stderr.decode()


async def test_the_command_line_lists_and_answers(
    shop: Shop, signing_keys: tuple[str, str], keys: Keys
) -> None:
    await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    objection = await file_request(shop, token, "objection", DETAIL)
    withdrawal = await file_request(shop, token, "withdraw_consent")
    await backdate(shop, objection, datetime(2025, 1, 2, 5, 0, tzinfo=UTC), "objection")
    desk = await officer(shop)
    env = cli_env(shop, signing_keys, keys)

    code, out, err = await privacy_cli(shop, env, "requests")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].startswith(objection) and "due 2025-01-08 OVERDUE" in lines[0]
    assert lines[1].startswith(withdrawal) and "OVERDUE" not in lines[1]
    assert lines[2] == "2 request(s)" and "Жумабекова" not in out

    code, _, err = await privacy_cli(
        shop, env, "resolve", objection, "--officer", "support@shop.kz",
        "--outcome", "completed", "--answer", ANSWER,
    )  # fmt: skip
    assert code == 1 and "privacy_officer" in err
    code, _, err = await privacy_cli(
        shop, env, "resolve", objection, "--officer", "officer@shop.kz",
        "--outcome", "refused", "--answer", ANSWER,
    )  # fmt: skip
    assert code == 2 and "refusal needs a reason" in err
    code, out, err = await privacy_cli(
        shop, env, "resolve", objection, "--officer", "Officer@Shop.kz",
        "--outcome", "refused", "--answer", ANSWER, "--reason", "decision_upheld",
    )  # fmt: skip
    assert code == 0, err
    assert out.strip() == f"request {objection} (objection) refused"
    _, mine = await shop.call("GET", MINE, token=token)
    [item] = [i for i in mine["items"] if i["id"] == objection]
    assert item["resolution"] == ANSWER and item["reason"] == "decision_upheld"
    _, one = await shop.call("GET", f"{QUEUE}/{objection}", token=desk.token)
    assert one["resolved_by"] == f"staff:{desk.id}"
    code, out, _ = await privacy_cli(shop, env, "requests", "--kind", "objection")
    assert out.strip() == "0 request(s)"

    # A withdrawal completed on the command line closes the account for erasure (the
    # running service's erasure chore shreds it).
    code, out, err = await privacy_cli(
        shop, env, "resolve", withdrawal, "--officer", "officer@shop.kz",
        "--outcome", "completed", "--answer", "Обработка прекращена.",
    )  # fmt: skip
    assert code == 0, err
    assert out.splitlines()[0] == f"request {withdrawal} (withdraw_consent) completed"
    assert out.splitlines()[1].startswith("account closed for erasure: request ")
    status, _ = await shop.call(
        "POST", "/api/customers/login",
        json={"login": "aigerim.test@example.kz", "password": "correct horse battery"},
    )  # fmt: skip
    assert status == 401
