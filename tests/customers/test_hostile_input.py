"""Input the customers API must refuse rather than keep: lone surrogates in passwords (they
crashed argon2), consents that are not an explicit JSON true/false, and personal-data text
with control, bidirectional-override or only invisible characters (it goes out to couriers).
"""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest

from tests.customers.conftest import Shop, registration
from tests.rawhttp import send_raw

SURROGATE_PASSWORD = "correct horse \ud800 battery"  # json.dumps writes it as a \ud800 escape


async def post_json(shop: Shop, path: str, body: Any, token: str | None = None):
    data = json.dumps(body).encode()
    headers = {"Content-Type": "application/json"}
    return await shop.call("POST", path, token=token, data=data, headers=headers)


async def test_a_lone_surrogate_in_a_password_is_a_422_everywhere(shop: Shop) -> None:
    await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    attempts = [
        ("/api/customers/register", registration(password=SURROGATE_PASSWORD), None),
        ("/api/customers/login", {"login": "+77012345678", "password": SURROGATE_PASSWORD}, None),
        (
            "/api/customers/staff/login",
            {"email": "o@shop.kz", "password": SURROGATE_PASSWORD},
            None,
        ),
        (
            "/api/customers/me/password",
            {"current_password": SURROGATE_PASSWORD, "new_password": SURROGATE_PASSWORD},
            token,
        ),
    ]
    for path, body, bearer in attempts:
        status, problem = await post_json(shop, path, body, bearer)
        assert status == 422 and problem["title"] == "Invalid string", (path, problem)
        assert "horse" not in json.dumps(problem)
    await shop.login("aigerim.test@example.kz")  # the password is unchanged


@pytest.mark.parametrize("given", ["yes", "on", 1, "true", None])
async def test_a_consent_is_only_an_explicit_json_true_or_false(shop: Shop, given: Any) -> None:
    status, problem = await post_json(
        shop, "/api/customers/register", registration(marketing={"email": given, "sms": False})
    )
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["marketing.email"]

    customer_id = await shop.register(marketing={"email": False, "sms": False})
    token = await shop.login("aigerim.test@example.kz")
    status, problem = await shop.call(
        "PUT",
        "/api/customers/me/consents",
        token=token,
        json={"marketing": {"email": False, "sms": given}},
    )
    assert status == 422 and [e["field"] for e in problem["errors"]] == ["marketing.sms"]
    conn = await shop.db()
    try:
        granted = await conn.fetch(
            "SELECT kind FROM consents WHERE customer_id = $1 AND granted", UUID(customer_id)
        )
    finally:
        await conn.close()
    assert [row["kind"] for row in granted] == ["pd_processing"]


UNFIT_TEXT = {
    "NUL": "Айгерим\x00",
    "line break": "Айгерим\nКурьер: отдать соседу",
    "escape sequence": "\x1b[31mАйгерим",
    "right-to-left override": "Айгерим\u202eмиреглА",
    "bidi isolate": "\u2066Айгерим\u2069",
    "only zero-width": "\u200b\u200d\u2060",
    "only a Hangul filler": "\u3164",
}
FIELDS = {
    "first_name": lambda v: {"first_name": v},
    "patronymic": lambda v: {"patronymic": v},
    "delivery_address.street": lambda v: {
        "delivery_address": {"city": "Шымкент", "street": v, "house": "17"}
    },
    "delivery_address.comment": lambda v: {
        "delivery_address": {"city": "Шымкент", "street": "Абая", "house": "17", "comment": v}
    },
}


@pytest.mark.parametrize("value", UNFIT_TEXT.values(), ids=UNFIT_TEXT.keys())
async def test_personal_data_text_with_control_bidi_or_invisible_characters_is_a_422(
    shop: Shop, value: str
) -> None:
    customer_id = await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    for field, body in FIELDS.items():
        status, problem = await post_json(
            shop, "/api/customers/register", registration(**body(value))
        )
        assert status == 422 and [e["field"] for e in problem["errors"]] == [field], problem
        assert "Айгерим" not in json.dumps(problem, ensure_ascii=False)
        status, problem = await shop.call(
            "PATCH", "/api/customers/me", token=token, json=body(value)
        )
        assert status == 422 and [e["field"] for e in problem["errors"]] == [field], problem
    status, me = await shop.call("GET", "/api/customers/me", token=token)
    assert status == 200 and me["id"] == customer_id and me["first_name"] == "Айгерим"


async def test_ordinary_names_and_addresses_are_still_accepted(shop: Shop) -> None:
    await shop.register(
        last_name="О'Нил-Сейтқали",
        first_name="Äsel  ",
        delivery_address={
            "city": "Алматы",
            "street": "ул. Жібек жолы",
            "house": "5/1",
            "comment": "Ер\u200bлан, 2-й подъезд 😀",
        },
    )


FORM = "application/x-www-form-urlencoded"
HOSTILE_FORMS = {
    "invalid UTF-8": (b"login=aigul\xff\xfe&password=x", FORM),
    "unknown charset": (b"login=aigul&password=x", f"{FORM}; charset=aigul"),
    "UTF-16": ("login=aigul&password=x".encode("utf-16"), f"{FORM}; charset=utf-16"),
    "multipart": (
        b'--XX\r\nContent-Disposition: form-data; name="login"\r\n\r\naigul\xff\r\n--XX--\r\n',
        "multipart/form-data; boundary=XX",
    ),
    "broken multipart": (b"--XX\r\nContent-Disposition: form-data", "multipart/form-data"),
    "JSON": (b'{"login": "aigul"}', "application/json"),
}


@pytest.mark.parametrize(("data", "content_type"), HOSTILE_FORMS.values(), ids=HOSTILE_FORMS.keys())
async def test_an_account_form_that_is_not_a_utf8_urlencoded_form_is_a_4xx_page(
    shop: Shop, captured_logs, data: bytes, content_type: str
) -> None:
    for path in ("/account/signin", "/account/signup", "/account/consents"):
        async with shop.http.post(
            shop.url + path, data=data, headers={"Content-Type": content_type}
        ) as response:
            text = await response.text()
            assert 400 <= response.status < 500 and "<html" in text, (path, response.status)
            assert "aigul" not in text
    assert "Traceback" not in captured_logs.getvalue()


@pytest.mark.parametrize("path", ["/account/signin", "/account/profile", "/api/customers/me"])
async def test_cookies_of_bytes_that_are_not_utf8_are_a_4xx(
    shop: Shop, captured_logs, path: str
) -> None:
    names = ("__Host-account_session", "account_session", "__Host-account_csrf", "account_csrf")
    for name in names:
        answer = await send_raw(
            shop.url,
            f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n".encode()
            + f"Cookie: {name}=".encode()
            + b"\xff\xfe" * 20
            + b"\r\n\r\n",
        )
        assert 400 <= answer.status < 500, (name, answer.status)
    assert "Traceback" not in captured_logs.getvalue()
