"""Legal disclosures to state bodies (Law 94-V art. 9) at the privacy officer's desk: the
officer receives the fields, the release is in the register with its ground and in the audit
log, the customer sees it unless a law forbids, and nobody else may make one."""

from __future__ import annotations

import io
from typing import Any
from uuid import uuid4

from tests.customers.conftest import Shop
from tests.customers.desk_helpers import audit_rows, officer, staff_member, walk

LEGAL = "/api/customers/privacy/legal-disclosures"
POLICE = "Департамент полиции г. Шымкент"
BASIS = "ст. 9 п. 2: запрос органа уголовного преследования № 12-3/456 от 01.12.2026"
SECRECY = "УПК РК ст. 201 (тайна досудебного расследования)"


def request_body(customer_id: str, **extra: Any) -> dict[str, Any]:
    return {
        "customer_id": customer_id,
        "authority": POLICE,
        "basis": BASIS,
        "fields": ["full_name", "phone"],
        **extra,
    }


async def test_the_officer_receives_the_fields_and_the_customer_sees_the_release(
    shop: Shop, captured_logs: io.StringIO
) -> None:
    customer = await shop.register()
    desk = await officer(shop)
    status, body = await shop.call("POST", LEGAL, token=desk.token, json=request_body(customer))
    assert status == 201, body
    assert body["values"] == {"full_name": "Жумабекова Айгерим Нурлановна", "phone": "+77012345678"}
    assert body["fields"] == ["full_name", "phone"] and body["confidential"] is False
    assert body["authority"] == POLICE and body["basis"] == BASIS
    assert body["disclosed_by"] == str(desk.id)

    token = await shop.login("+77012345678")
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    [item] = [d for d in register["items"] if d["release_id"] == body["release_id"]]
    assert item["purpose"] == "legal_request" and item["recipient"] == f"authority:{POLICE}"
    assert item["fields"] == ["full_name", "phone"]
    assert item["legal_basis"] == f"Law 94-V art. 9: {BASIS}"
    # Only the fields asked for were read, by the officer, for legal_request.
    [read] = [r for r in await audit_rows(shop, customer) if r["purpose"] == "legal_request"]
    assert read["actor"] == f"staff:{desk.id}" and read["action"] == "read"
    assert set(read["fields"]) == {"last_name", "first_name", "patronymic", "phone"}

    status, listed = await shop.call("GET", LEGAL, token=desk.token)
    assert status == 200 and [i["id"] for i in listed["items"]] == [body["id"]]
    assert "values" not in listed["items"][0] and "+77012345678" not in str(listed)
    logs = captured_logs.getvalue()
    assert "legal disclosure" in logs
    for needle in ("Жумабекова", "+77012345678", "Шымкент"):
        assert needle not in logs


async def test_a_confidential_disclosure_names_its_law_and_stays_out_of_the_customers_view(
    shop: Shop,
) -> None:
    customer = await shop.register()
    desk = await officer(shop)
    status, answer = await shop.call(
        "POST", LEGAL, token=desk.token, json=request_body(customer, confidential=True)
    )
    assert status == 422 and SECRECY not in str(answer)
    status, open_one = await shop.call(
        "POST", LEGAL, token=desk.token, json=request_body(customer, fields=["email"])
    )
    assert status == 201 and open_one["values"] == {"email": "aigerim.test@example.kz"}
    status, secret = await shop.call(
        "POST",
        LEGAL,
        token=desk.token,
        json=request_body(customer, confidential=True, confidentiality_ref=SECRECY),
    )
    assert status == 201 and secret["confidential"] is True
    assert secret["confidentiality_ref"] == SECRECY

    token = await shop.login("+77012345678")
    _, register = await shop.call("GET", "/api/customers/me/disclosures", token=token)
    released = {d["release_id"] for d in register["items"]}
    assert open_one["release_id"] in released and secret["release_id"] not in released
    _, export = await shop.call("GET", "/api/customers/me/export", token=token)
    assert secret["release_id"] not in str(export) and open_one["release_id"] in str(export)
    # The read behind it is audited as one the subject may not be told of.
    reads = [r for r in await audit_rows(shop, customer) if r["purpose"] == "legal_request"]
    assert sorted(r["action"] for r in reads) == ["read", "read_confidential"]
    # ... and the export's audit trail shows only the open one.
    trail = [r for r in export["audit"] if r["purpose"] == "legal_request"]
    assert [(r["action"], r["fields"]) for r in trail] == [("read", ["email"])]

    # The desk keeps both, newest first, one customer's on request, page by page.
    other = await shop.register(email="bolat@example.kz", phone="+77019998877")
    await shop.call("POST", LEGAL, token=desk.token, json=request_body(other))
    status, page = await shop.call("GET", f"{LEGAL}?customer_id={customer}", token=desk.token)
    assert [i["id"] for i in page["items"]] == [secret["id"], open_one["id"]]
    walked = await walk(shop, desk.token, LEGAL)
    assert len(walked) == 3 and walked[1:] == [secret["id"], open_one["id"]]


async def test_only_the_privacy_officer_may_disclose(shop: Shop) -> None:
    customer = await shop.register()
    customer_token = await shop.login("+77012345678")
    support = await staff_member(shop, "support@shop.kz", "support", "marketer", "analyst")
    for method, body in (("POST", request_body(customer)), ("GET", None)):
        for token, expected in ((customer_token, 403), (support.token, 403), (None, 401)):
            status, answer = await shop.call(method, LEGAL, token=token, json=body)
            assert status == expected, (method, status)
            assert "+77012345678" not in str(answer)
    conn = await shop.db()
    try:
        assert await conn.fetchval("SELECT count(*) FROM legal_disclosures") == 0
        assert await conn.fetchval("SELECT count(*) FROM disclosures") == 0
    finally:
        await conn.close()


async def test_bad_input_is_a_problem_quoting_nothing(shop: Shop) -> None:
    customer = await shop.register()
    desk = await officer(shop)
    cases = (
        (request_body(customer, fields=["password_hash"]), 422),
        (request_body(customer, fields=[]), 422),
        (request_body(customer, authority="Полиция\u202e"), 422),
        (request_body(customer, basis=""), 422),
        (request_body(customer, confidentiality_ref=SECRECY), 422),  # not confidential
        (request_body(customer, confidential="yes", confidentiality_ref=SECRECY), 422),
        ({**request_body(customer), "reason": "because"}, 422),
        (request_body("not-a-uuid"), 422),
        (request_body(str(uuid4())), 404),
    )
    for body, expected in cases:
        status, answer = await shop.call("POST", LEGAL, token=desk.token, json=body)
        assert status == expected, body
        for sent in ("password_hash", "Полиция", "because", "not-a-uuid", SECRECY, "yes"):
            assert sent not in str(answer)
    await shop.block(customer)
    status, answer = await shop.call("POST", LEGAL, token=desk.token, json=request_body(customer))
    assert status == 409 and "Жумабекова" not in str(answer)
    status, _ = await shop.call("GET", f"{LEGAL}?cursor=garbage", token=desk.token)
    assert status == 422
    status, _ = await shop.call("GET", f"{LEGAL}?customer_id=nope", token=desk.token)
    assert status == 422
    conn = await shop.db()
    try:
        assert await conn.fetchval("SELECT count(*) FROM legal_disclosures") == 0
    finally:
        await conn.close()
