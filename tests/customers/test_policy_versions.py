"""Policy versions (policy 5.8): publication by the privacy officer, the event, and the
acceptance that the next sign-in asks for before new processing."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, date, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

from services.customers.keys import ACCOUNTS
from shared.auth import TokenIssuer
from tests.customers.conftest import INTERNAL_TOKEN, POLICY_VERSION, Shop, registration

NEW = "2026-12-01"
TEXT_RU = "## Политика конфиденциальности\n\nНовая редакция."
TEXT_KK = "## Құпиялылық саясаты\n\nЖаңа редакция."


def officer(shop: Shop, *roles: str) -> str:
    issuer = TokenIssuer(shop.settings.private_key_pem())
    return issuer.issue(uuid4(), "staff", frozenset(roles or ("privacy_officer",)))


def version(**overrides: Any) -> dict[str, Any]:
    today = datetime.now(UTC).date()
    body = {"version": NEW, "effective_date": today.isoformat(), "text_ru": TEXT_RU}
    body["text_kk"] = TEXT_KK
    body.update(overrides)
    return body


async def publish(shop: Shop, **overrides: Any) -> tuple[int, Any]:
    return await shop.call(
        "POST", "/api/customers/policy/versions", token=officer(shop), json=version(**overrides)
    )


async def test_only_the_privacy_officer_publishes(shop: Shop) -> None:
    await shop.register()
    customer = await shop.login("aigerim.test@example.kz")
    path = "/api/customers/policy/versions"
    for token, expected in ((None, 401), (customer, 403), (officer(shop, "marketer"), 403)):
        status, _ = await shop.call("POST", path, token=token, json=version())
        assert status == expected
    status, body = await publish(shop)
    assert status == 201
    assert body["sha256"] == hashlib.sha256(TEXT_RU.encode()).hexdigest()
    assert body["sha256_kk"] == hashlib.sha256(TEXT_KK.encode()).hexdigest()


async def test_publication_serves_the_new_version_and_emits_ids_only(shop: Shop) -> None:
    status, _ = await publish(shop)
    assert status == 201
    status, current = await shop.call("GET", "/api/customers/policy")
    assert current["version"] == NEW and current["text"] == TEXT_RU
    _, kk = await shop.call("GET", "/api/customers/policy?lang=kk")
    assert kk["text"] == TEXT_KK
    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT body FROM outbox WHERE message_type = 'customers.policy.published'"
        )
    finally:
        await conn.close()
    assert len(rows) == 1
    body = rows[0]["body"]
    payload = json.loads(bytes(body) if isinstance(body, bytes | memoryview) else body)
    assert payload == {"version": NEW, "effective_date": datetime.now(UTC).date().isoformat()}


async def test_bad_publications_are_refused(shop: Shop) -> None:
    yesterday = (datetime.now(UTC).date() - timedelta(days=1)).isoformat()
    cases = [
        ({"effective_date": yesterday}, 409),
        ({"version": "../etc"}, 422),
        ({"text_ru": ""}, 422),
        ({"extra": "x"}, 422),
    ]
    for overrides, expected in cases:
        status, _ = await publish(shop, **overrides)
        assert status == expected, overrides
    assert (await publish(shop))[0] == 201
    assert (await publish(shop))[0] == 409  # the same version again
    # A future version is kept but not served before its date.
    future = (date.today() + timedelta(days=30)).isoformat()
    assert (await publish(shop, version="2027-01", effective_date=future))[0] == 201
    _, current = await shop.call("GET", "/api/customers/policy")
    assert current["version"] == NEW


async def test_acceptance_is_required_before_new_processing(shop: Shop) -> None:
    customer_id = await shop.register(marketing={"email": True, "sms": False})
    assert (await publish(shop))[0] == 201
    status, body = await shop.call(
        "POST",
        "/api/customers/login",
        json={"login": "aigerim.test@example.kz", "password": "correct horse battery"},
    )
    assert status == 200
    assert body["policy_acceptance_required"] is True and body["policy_version"] == NEW
    token = body["access_token"]

    # Rights of the data subject stay open: view, export, register, consents, withdrawal.
    for path in ("/me", "/me/export", "/me/disclosures", "/me/consents"):
        status, _ = await shop.call("GET", "/api/customers" + path, token=token)
        assert status == 200, path
    status, _ = await shop.call(
        "PUT", "/api/customers/me/consents", token=token, json={"marketing": {"email": False}}
    )
    assert status == 200
    # New processing waits for the acceptance.
    status, problem = await shop.call(
        "PATCH", "/api/customers/me", token=token, json={"first_name": "Аружан"}
    )
    assert status == 403 and problem["type"] == "policy-acceptance-required"
    assert problem["policy_version"] == NEW and "Аружан" not in str(problem)
    status, problem = await shop.call(
        "PUT", "/api/customers/me/consents", token=token, json={"marketing": {"email": True}}
    )
    assert status == 403 and problem["type"] == "policy-acceptance-required"

    path = "/api/customers/me/policy-acceptance"
    status, problem = await shop.call("POST", path, token=token, json={"version": "2020"})
    assert status == 409 and problem["current_version"] == NEW
    status, body = await shop.call("POST", path, token=token, json={"version": NEW})
    assert status == 200 and body == {"policy_version": NEW, "recorded": True}
    status, body = await shop.call("POST", path, token=token, json={"version": NEW})
    assert status == 200 and body["recorded"] is False

    status, _ = await shop.call(
        "PATCH", "/api/customers/me", token=token, json={"first_name": "Аружан"}
    )
    assert status == 200
    status, body = await shop.call(
        "POST",
        "/api/customers/login",
        json={"login": "aigerim.test@example.kz", "password": "correct horse battery"},
    )
    assert body["policy_acceptance_required"] is False
    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT policy_version, record FROM consents WHERE customer_id = $1"
            " AND kind = 'pd_processing' ORDER BY id",
            UUID(customer_id),
        )
    finally:
        await conn.close()
    assert [r["policy_version"] for r in rows] == [POLICY_VERSION, NEW]
    record = rows[1]["record"]
    record = json.loads(record) if isinstance(record, str) else record
    assert record["policy_sha256"] == hashlib.sha256(TEXT_RU.encode()).hexdigest()


async def test_marketing_release_waits_for_acceptance(shop: Shop) -> None:
    customer_id = await shop.register(marketing={"email": True, "sms": False})
    release = {
        "customer_id": customer_id,
        "purpose": "marketing",
        "recipient": "notifications:promo",
        "channel": "email",
    }
    headers = {"X-Internal-Token": INTERNAL_TOKEN}
    status, _ = await shop.call("POST", "/internal/releases", headers=headers, json=release)
    assert status == 200
    assert (await publish(shop))[0] == 201
    status, _ = await shop.call("POST", "/internal/releases", headers=headers, json=release)
    assert status == 403
    # Service messages (e.g. telling the customer about the new policy) still go out.
    service = {**release, "purpose": "service_communication"}
    status, _ = await shop.call("POST", "/internal/releases", headers=headers, json=service)
    assert status == 200
    conn = await shop.db()
    try:
        async with conn.transaction():
            batch = await shop.app[ACCOUNTS].gate.release_contacts(
                conn, [UUID(customer_id)], "email", "marketing", "notifications:promo"
            )
    finally:
        await conn.close()
    assert batch == []


async def test_registration_needs_the_new_version(shop: Shop) -> None:
    assert (await publish(shop))[0] == 201
    status, body = await shop.call(
        "POST",
        "/api/customers/register",
        json={**registration(), "accept_policy_version": POLICY_VERSION},
    )
    assert status == 409 and body["current_version"] == NEW
    status, _ = await shop.call(
        "POST", "/api/customers/register", json={**registration(), "accept_policy_version": NEW}
    )
    assert status == 201
