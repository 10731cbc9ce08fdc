"""Registration, sign-in, the profile, policy and JWKS through the real HTTP app."""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from uuid import UUID, uuid4

import asyncpg
import jwt
import pytest

from services.customers.__main__ import main
from services.customers.keys import ACCOUNTS
from shared.auth import TokenIssuer, generate_signing_key_pem
from tests.customers.conftest import POLICY_VERSION, Shop, registration

POLICY_FILE = Path(__file__).resolve().parents[2] / "services/customers/policy/privacy-policy.ru.md"


async def test_register_login_me_and_patch(shop: Shop) -> None:
    customer_id = await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    status, me = await shop.call("GET", "/api/customers/me", token=token)
    assert status == 200
    assert me["id"] == customer_id
    assert me["email"] == "aigerim.test@example.kz"
    assert me["phone"] == "+77012345678"
    assert me["last_name"] == "Жумабекова" and me["patronymic"] == "Нурлановна"
    assert me["delivery_address"]["city"] == "Шымкент"
    assert me["locale"] == "kk"

    patch = {"phone": "8 (707) 111-22-33", "patronymic": None, "locale": "ru"}
    status, me = await shop.call("PATCH", "/api/customers/me", token=token, json=patch)
    assert status == 200, me
    assert me["phone"] == "+77071112233" and me["patronymic"] is None and me["locale"] == "ru"
    # Login follows the new phone (blind index updated); the old one no longer works.
    await shop.login("+7 707 111 22 33")
    status, _ = await shop.call(
        "POST",
        "/api/customers/login",
        json={"login": "+77012345678", "password": "correct horse battery"},
    )
    assert status == 401


async def test_login_by_phone_and_token_shape(shop: Shop, signing_keys: tuple[str, str]) -> None:
    customer_id = await shop.register()
    status, body = await shop.call(
        "POST",
        "/api/customers/login",
        json={"login": "87012345678", "password": "correct horse battery"},
    )
    assert status == 200
    assert body["token_type"] == "Bearer" and body["expires_in"] == 900
    claims = jwt.decode(
        body["access_token"], signing_keys[1], algorithms=["EdDSA"], audience="shop"
    )
    assert claims["sub"] == customer_id and claims["kind"] == "customer" and claims["roles"] == []


@pytest.mark.parametrize(
    "login,password",
    [
        ("aigerim.test@example.kz", "wrong password!"),
        ("nobody@example.kz", "correct horse battery"),
        ("+77000000000", "correct horse battery"),
        ("not a login", "correct horse battery"),
    ],
)
async def test_wrong_credentials_do_not_reveal_accounts(
    shop: Shop, login: str, password: str
) -> None:
    await shop.register()
    status, body = await shop.call(
        "POST", "/api/customers/login", json={"login": login, "password": password}
    )
    assert status == 401
    assert body["detail"] == "The login or password is wrong."


async def test_unknown_field_is_422(shop: Shop) -> None:
    status, body = await shop.call(
        "POST", "/api/customers/register", json=registration(iin="900101300123")
    )
    assert status == 422
    assert any(error["field"] == "iin" for error in body["errors"])
    assert "900101300123" not in str(body)


@pytest.mark.parametrize(
    "overrides,field",
    [
        ({"phone": "12345"}, "phone"),
        ({"phone": "+7 701 234 56 78 99 99"}, "phone"),
        ({"email": "not-an-email"}, "email"),
        ({"email": "a@b"}, "email"),
        ({"password": "short"}, "password"),
        ({"locale": "xx-yy"}, "locale"),
        ({"delivery_address": {"city": "Шымкент"}}, "delivery_address.street"),
        ({"marketing": {"email": True, "fax": True}}, "marketing.fax"),
    ],
)
async def test_bad_values_are_422_without_echo(shop: Shop, overrides: dict, field: str) -> None:
    status, body = await shop.call(
        "POST", "/api/customers/register", json=registration(**overrides)
    )
    assert status == 422, body
    assert any(error["field"] == field for error in body["errors"])
    for value in overrides.values():
        if isinstance(value, str):
            assert value not in str(body)


async def test_missing_required_field_is_422(shop: Shop) -> None:
    body = registration()
    del body["first_name"]
    status, _ = await shop.call("POST", "/api/customers/register", json=body)
    assert status == 422


async def test_malformed_json_is_400_and_wrong_type_415(shop: Shop) -> None:
    status, body = await shop.call(
        "POST",
        "/api/customers/register",
        data=b"{not json",
        headers={"Content-Type": "application/json"},
    )
    assert status == 400 and body["title"] == "Malformed JSON"
    status, _ = await shop.call("POST", "/api/customers/register", data=b"x=1")
    assert status == 415


async def test_policy_version_must_be_current(shop: Shop) -> None:
    status, body = await shop.call(
        "POST", "/api/customers/register", json=registration(accept_policy_version="2020-01-01")
    )
    assert status == 409
    assert body["current_version"] == POLICY_VERSION


async def test_duplicate_email_or_phone_is_409(shop: Shop) -> None:
    await shop.register()
    status, body = await shop.call(
        "POST", "/api/customers/register", json=registration(phone="+77075554433")
    )
    assert status == 409
    assert "example.kz" not in str(body)
    status, _ = await shop.call(
        "POST", "/api/customers/register", json=registration(email="other@example.kz")
    )
    assert status == 409


async def test_customer_a_cannot_see_b(shop: Shop) -> None:
    a = await shop.register()
    b = await shop.register(
        email="bolat@example.kz", phone="+77019998877", first_name="Болат", last_name="Сериков"
    )
    token_a = await shop.login("aigerim.test@example.kz")
    token_b = await shop.login("bolat@example.kz")
    _, me_a = await shop.call("GET", "/api/customers/me", token=token_a)
    _, me_b = await shop.call("GET", "/api/customers/me", token=token_b)
    assert me_a["id"] == a and me_b["id"] == b
    assert "Болат" not in str(me_a) and "Айгерим" not in str(me_b)
    # Editing with A's token changes only A.
    await shop.call("PATCH", "/api/customers/me", token=token_a, json={"first_name": "Аружан"})
    _, me_b = await shop.call("GET", "/api/customers/me", token=token_b)
    assert me_b["first_name"] == "Болат"


async def test_forged_expired_and_missing_tokens_are_401(shop: Shop) -> None:
    customer_id = UUID(await shop.register())
    forged = TokenIssuer(generate_signing_key_pem()[0]).issue(customer_id, "customer")
    expired = TokenIssuer(shop.settings.private_key_pem(), ttl_s=-60).issue(customer_id, "customer")
    for token in (forged, expired, "not.a.token"):
        status, _ = await shop.call("GET", "/api/customers/me", token=token)
        assert status == 401
    status, _ = await shop.call("GET", "/api/customers/me")
    assert status == 401


async def test_staff_token_is_not_a_customer(shop: Shop) -> None:
    staff = TokenIssuer(shop.settings.private_key_pem()).issue(
        uuid4(), "staff", frozenset({"support"})
    )
    status, _ = await shop.call("GET", "/api/customers/me", token=staff)
    assert status == 403


async def test_policy_endpoint(shop: Shop) -> None:
    text = POLICY_FILE.read_text()
    status, body = await shop.call("GET", "/api/customers/policy")
    assert status == 200
    assert body["version"] == POLICY_VERSION and body["effective_date"] == "2026-11-01"
    assert body["text"] == text
    assert body["sha256"] == hashlib.sha256(text.encode()).hexdigest()
    status, body = await shop.call("GET", "/api/customers/policy?lang=kk")
    assert (
        status == 200 and body["text"] == POLICY_FILE.with_name("privacy-policy.kk.md").read_text()
    )
    status, _ = await shop.call("GET", "/api/customers/policy?lang=xx")
    assert status == 422


async def test_jwks_verifies_issued_tokens(shop: Shop) -> None:
    await shop.register()
    token = await shop.login("aigerim.test@example.kz")
    status, jwks = await shop.call("GET", "/api/customers/.well-known/jwks.json")
    assert status == 200
    (jwk,) = jwks["keys"]
    assert jwk["kty"] == "OKP" and jwk["crv"] == "Ed25519" and jwk["alg"] == "EdDSA"
    key = jwt.PyJWK(jwk).key
    claims = jwt.decode(token, key, algorithms=["EdDSA"], audience="shop")
    assert claims["kind"] == "customer"


async def test_staff_login(shop: Shop) -> None:
    accounts = shop.app[ACCOUNTS]
    conn = await shop.db()
    try:
        await accounts.add_staff(
            conn, "Officer@Shop.kz", "a long staff password", ["privacy_officer"]
        )
    finally:
        await conn.close()
    status, body = await shop.call(
        "POST",
        "/api/customers/staff/login",
        json={"email": "officer@shop.kz", "password": "a long staff password"},
    )
    assert status == 200
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["kind"] == "staff" and claims["roles"] == ["privacy_officer"]
    status, _ = await shop.call(
        "POST", "/api/customers/staff/login", json={"email": "officer@shop.kz", "password": "nope"}
    )
    assert status == 401
    conn = await shop.db()
    try:
        stored = await conn.fetch("SELECT * FROM staff")
    finally:
        await conn.close()
    assert "officer@shop.kz" not in str([dict(r) for r in stored]).lower()


async def test_consents_get_and_put(shop: Shop) -> None:
    customer_id = await shop.register(marketing={"email": False, "sms": True})
    token = await shop.login("aigerim.test@example.kz")
    status, body = await shop.call("GET", "/api/customers/me/consents", token=token)
    assert status == 200
    history = body.pop("marketing_history")
    assert body == {
        "policy_version": POLICY_VERSION,
        "marketing": {"email": False, "sms": True},
        "cross_border_transfer": False,
        "recipients_abroad": [],
    }
    assert [(h["channel"], h["granted"]) for h in history] == [("email", False), ("sms", True)]
    status, body = await shop.call(
        "PUT",
        "/api/customers/me/consents",
        token=token,
        json={"marketing": {"email": True, "sms": False}},
    )
    assert status == 200 and body["marketing"] == {"email": True, "sms": False}
    conn = await shop.db()
    try:
        rows = await conn.fetch(
            "SELECT kind, granted FROM consents WHERE customer_id = $1 ORDER BY id",
            UUID(customer_id),
        )
        outbox = await conn.fetch("SELECT message_type FROM outbox ORDER BY id")
        with pytest.raises(asyncpg.RaiseError):
            await conn.execute("UPDATE consents SET granted = true")
    finally:
        await conn.close()
    assert [(r["kind"], r["granted"]) for r in rows] == [
        ("pd_processing", True),
        ("marketing_email", False),
        ("marketing_sms", True),
        ("marketing_email", True),
        ("marketing_sms", False),
    ]
    types = [r["message_type"] for r in outbox]
    assert types.count("customers.consent.changed") == 2


async def test_consent_record_content(shop: Shop) -> None:
    customer_id = await shop.register()
    conn = await shop.db()
    try:
        record = await conn.fetchval(
            "SELECT record FROM consents WHERE customer_id = $1 AND kind = 'pd_processing'",
            UUID(customer_id),
        )
    finally:
        await conn.close()
    record = json.loads(record) if isinstance(record, str) else record
    assert record["operator"] == {"name": shop.settings.operator_name, "bin": "240440017017"}
    assert record["subject_id"] == customer_id
    assert record["policy_version"] == POLICY_VERSION
    assert record["policy_sha256"] == hashlib.sha256(POLICY_FILE.read_bytes()).hexdigest()
    assert record["cross_border_transfer"] is False and record["published"] is False
    assert "delivery" in record["purposes"] and record["term"]
    assert record["third_party_transfer"]["allowed"] is True
    assert "accepted_at" in record and "email" in record["data"]


async def test_patch_validation_and_conflicts(shop: Shop) -> None:
    await shop.register()
    await shop.register(email="bolat@example.kz", phone="+77019998877")
    token = await shop.login("aigerim.test@example.kz")
    cases = [
        ({"email": "bolat@example.kz"}, 409),
        ({"phone": "+7 701 999 88 77"}, 409),
        ({"last_name": None}, 422),
        ({"iin": "900101300123"}, 422),
        ({"phone": "123"}, 422),
        ({"email": "New@Example.kz"}, 200),
    ]
    for patch, expected in cases:
        status, body = await shop.call("PATCH", "/api/customers/me", token=token, json=patch)
        assert status == expected, (patch, body)
        assert "bolat" not in str(body) or expected == 200
    await shop.login("new@example.kz")


def test_keys_generate_cli(tmp_path: Path) -> None:
    assert main(["keys", "generate", "--dir", str(tmp_path)]) == 0
    assert len(base64.b64decode((tmp_path / "master.key").read_text())) == 32
    assert len(base64.b64decode((tmp_path / "blind_index.key").read_text())) == 32
    assert "PRIVATE KEY" in (tmp_path / "jwt_private.pem").read_text()
    assert (tmp_path / "master.key").stat().st_mode & 0o777 == 0o600
    before = (tmp_path / "master.key").read_text()
    assert main(["keys", "generate", "--dir", str(tmp_path)]) == 1
    assert (tmp_path / "master.key").read_text() == before
