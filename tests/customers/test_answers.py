"""The customers documents describe every JSON success by a model (``handlers/answers.py``,
``desk_answers.py``, ``export_answer.py``), and the live answers match them.

Schemathesis (test_openapi.py) reaches a success only where random input can: it cannot
sign in, find a breach or a request by id, or release for a real customer. The walk here
does, through the real routes, and checks each answer against the served document's schema
(JSON Schema 2020-12, formats checked), as schemathesis' conformance check does.
"""

from __future__ import annotations

import typing
from http.cookies import SimpleCookie
from typing import Any
from uuid import uuid4

import jsonschema

from services.customers.domain import PD_FIELDS, ReleasedField
from services.customers.handlers.answers import Profile, ReleasedFields
from services.customers.handlers.routes import OPERATIONS
from shared.data_map import EXPORT_SECTIONS
from shared.openapi import build_document
from tests.customers.conftest import INTERNAL_TOKEN, POLICY_VERSION, Shop, registration
from tests.customers.desk_helpers import STAFF_PASSWORD, officer

P = "/api/customers"
INTERNAL = {"X-Internal-Token": INTERNAL_TOKEN}
JSON_SUCCESS = {"200", "201", "202"}


def json_successes(doc: dict[str, Any]) -> dict[str, Any]:
    """Each operation's JSON success schema, by ``METHOD path``."""
    found = {}
    for path, operations in doc["paths"].items():
        for method, operation in operations.items():
            for code, response in operation["responses"].items():
                content = response.get("content", {})
                if code in JSON_SUCCESS and "application/json" in content:
                    found[f"{method.upper()} {path}"] = content["application/json"]["schema"]
    return found


def test_every_json_success_has_a_model() -> None:
    """Public and internal: a new operation without ``response=`` fails here."""
    assert len(SUCCESSES) == 37  # the 39 operations but logout's and the password's 204
    bare = sorted(key for key, schema in SUCCESSES.items() if set(schema) != {"$ref"})
    assert not bare, f"described as a bare object: {bare}"


def test_the_models_follow_the_domain() -> None:
    """The profile's personal data keys are ``PD_FIELDS``; a release's, ``ReleasedField``;
    the export's sections, every service's ``EXPORT_SECTIONS``."""
    account = {"id", "locale", "status", "created_at"}
    assert set(Profile.model_fields) - account == set(PD_FIELDS)
    assert set(ReleasedFields.model_fields) == set(typing.get_args(ReleasedField))
    export = COMPONENTS["schemas"]["Export"]
    sections = {name for names in EXPORT_SECTIONS.values() for name in names}
    assert set(export["properties"]) == sections | {"complete", "notes"}
    assert set(export["required"]) == sections | {"complete"}


DOCS = [build_document("C", OPERATIONS), build_document("C", OPERATIONS, internal=True)]
SUCCESSES = {key: schema for doc in DOCS for key, schema in json_successes(doc).items()}
COMPONENTS = {
    "schemas": {name: s for doc in DOCS for name, s in doc["components"]["schemas"].items()}
}


def check_answer(key: str, body: Any) -> None:
    """``body`` is what the document says ``key`` (``METHOD path``) answers on success."""
    jsonschema.validate(
        body,
        {**SUCCESSES[key], "components": COMPONENTS},
        cls=jsonschema.Draft202012Validator,
        format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
    )


class Checked:
    """Calls the live app and checks each success against its operation's schema."""

    def __init__(self, shop: Shop) -> None:
        self.shop = shop
        self.seen: set[str] = set()

    async def __call__(
        self, method: str, template: str, status: int, path: str = "", **kwargs: Any
    ) -> Any:
        got, body = await self.shop.call(method, path or template, **kwargs)
        assert got == status, (method, template, body)
        self.check(f"{method} {template}", body)
        return body

    def check(self, key: str, body: Any) -> None:
        check_answer(key, body)
        self.seen.add(key)


async def test_live_answers_match_their_models(shop: Shop) -> None:
    call = Checked(shop)
    customer_id, token = await _signed_in(call)
    me = {"token": token}
    await _own_account(call, customer_id, me)
    await _desk(call, customer_id, me)
    await call("GET", f"{P}/me/disclosures", 200, **me)
    await call("GET", f"{P}/me/requests", 200, **me)
    export = await call("GET", f"{P}/me/export", 200, **me)
    assert export["audit"] and export["disclosures"] and export["requests"]
    gone = {"password": "correct horse battery"}
    await call("DELETE", f"{P}/me", 202, json=gone, **me)
    # The support lookup needs the orders service: checked in tests/customers/test_support.py.
    unchecked = set(SUCCESSES) - call.seen
    assert unchecked <= {f"POST {P}/support/contact-lookups"} | FUZZED, sorted(unchecked)


async def _signed_in(call: Checked) -> tuple[str, str]:
    """Sign up, sign in, refresh: the customer's id and access token."""
    signing_up = registration(email="answers@mail.kz", phone="+7 701 555 01 01", locale="ru")
    created = await call("POST", f"{P}/register", 201, json=signing_up)
    customer_id = created["id"]
    login = {"login": "answers@mail.kz", "password": "correct horse battery"}
    async with call.shop.http.post(call.shop.url + f"{P}/login", json=login) as response:
        assert response.status == 200
        call.check(f"POST {P}/login", await response.json())
        cookies: SimpleCookie = SimpleCookie()
        for header in response.headers.getall("Set-Cookie", []):
            cookies.load(header)
        refresh = cookies["refresh_token"].value
    headers = {"Cookie": f"refresh_token={refresh}"}
    token = (await call("POST", f"{P}/token/refresh", 200, headers=headers))["access_token"]
    return customer_id, str(token)


async def _own_account(call: Checked, customer_id: str, me: dict[str, str]) -> None:
    """The profile, consents, a STOP by SMS, releases and contact batches, a request."""
    await call("GET", f"{P}/me", 200, **me)
    await call("POST", f"{P}/me/policy-acceptance", 200, json={"version": POLICY_VERSION}, **me)
    await call("PATCH", f"{P}/me", 200, json={"patronymic": None, "locale": "ru"}, **me)
    consents = {"marketing": {"email": True, "sms": True}, "cross_border_transfer": True}
    await call("PUT", f"{P}/me/consents", 200, json=consents, **me)
    await call("POST", "/internal/sms-stops", 200, headers=INTERNAL, json={"phone": "+77015550101"})
    await call("GET", f"{P}/me/consents", 200, **me)
    audience = "/internal/audiences?purpose=marketing&channel=email"
    assert (await call("GET", "/internal/audiences", 200, audience, headers=INTERNAL))["audience"]
    batch = {"purpose": "marketing", "channel": "email", "reference": str(uuid4()), "limit": 5}
    sent = await call("POST", "/internal/contact-batches", 200, json=batch, headers=INTERNAL)
    assert sent["items"]
    release = {"customer_id": customer_id, "purpose": "service_communication", "channel": "email"}
    release |= {"recipient": "notifications", "order_ref": "KZ-7"}
    await call("POST", "/internal/releases", 200, json=release, headers=INTERNAL)
    await call("POST", f"{P}/me/block", 202, **me)
    await call("DELETE", f"{P}/me/block", 202, **me)


async def _desk(call: Checked, customer_id: str, me: dict[str, str]) -> None:
    """The officer: a request answered, a breach and its notice, a legal disclosure, a block."""
    asked = {"kind": "objection", "detail": "Не согласна с решением."}
    filed = await call("POST", f"{P}/me/requests", 201, json=asked, **me)
    desk = await officer(call.shop)
    staff = {"token": desk.token}
    staff_login = {"email": "officer@shop.kz", "password": STAFF_PASSWORD}
    await call("POST", f"{P}/staff/login", 200, json=staff_login)
    one = f"{P}/privacy/requests/{filed['id']}"
    await call("GET", f"{P}/privacy/requests/{{request_id}}", 200, one, **staff)
    answer = {"outcome": "completed", "answer": "Всё в выгрузке."}
    await call(
        "POST", f"{P}/privacy/requests/{{request_id}}/resolve", 200, f"{one}/resolve",
        json=answer, **staff,
    )  # fmt: skip
    await call("GET", f"{P}/privacy/requests", 200, f"{P}/privacy/requests?status=all", **staff)
    breach = {"description": "Утечка", "detected_at": "2026-12-01T10:00:00+05:00"}
    breach |= {"customer_ids": [customer_id]}
    recorded = await call("POST", f"{P}/privacy/breaches", 201, json=breach, **staff)
    at = f"{P}/privacy/breaches/{recorded['id']}"
    template = f"{P}/privacy/breaches/{{breach_id}}"
    await call("GET", template, 200, at, **staff)
    await call("PATCH", template, 200, at, json={"measures": "Пароли сменены"}, **staff)
    await call("GET", f"{template}/notice", 200, f"{at}/notice", **staff)
    await call("POST", f"{template}/notice-sent", 200, f"{at}/notice-sent", **staff)
    await call("GET", f"{P}/privacy/breaches", 200, **staff)
    legal = {"customer_id": customer_id, "authority": "Департамент полиции", "basis": "ст. 9"}
    legal |= {"fields": ["full_name", "phone", "email", "delivery_address"]}
    await call("POST", f"{P}/privacy/legal-disclosures", 201, json=legal, **staff)
    await call("GET", f"{P}/privacy/legal-disclosures", 200, **staff)
    block = f"{P}/privacy/customers/{{customer_id}}/block"
    at = f"{P}/privacy/customers/{customer_id}/block"
    await call("POST", block, 202, at, json={"reason": "subject_request"}, **staff)
    await call("DELETE", block, 202, at, json={"reason": "subject_request"}, **staff)


# Successes schemathesis reaches on its own (test_openapi.py), not walked here.
FUZZED = {f"GET {P}/policy", f"GET {P}/.well-known/jwks.json", f"POST {P}/policy/versions"}
