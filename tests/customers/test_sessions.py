"""Sign-in hardening: refresh sessions, rotation and reuse, logout, password change,
argon2 rehash, the token ``kid``. (Sign-in throttling: ``test_throttle.py``.)"""

from __future__ import annotations

import hashlib
from http.cookies import SimpleCookie
from typing import Any
from uuid import UUID

import jwt

from tests.customers.conftest import MakeShop, Shop

LOGIN = "aigerim.test@example.kz"
PASSWORD = "correct horse battery"
REFRESH = "/api/customers/token/refresh"


async def post(
    shop: Shop, path: str, *, cookie: str | None = None, ip: str = "198.51.100.7", **kw: Any
) -> tuple[int, Any, SimpleCookie]:
    """POST with an explicit refresh cookie and client address; (status, body, Set-Cookie)."""
    headers = dict(kw.pop("headers", {}))
    if ip:  # as the gateway sets it (the test client is on loopback, a trusted proxy)
        headers["X-Forwarded-For"] = ip
    if cookie is not None:
        headers["Cookie"] = f"refresh_token={cookie}"
    async with shop.http.post(shop.url + path, headers=headers, **kw) as response:
        body = await response.json(content_type=None) if response.content_length != 0 else None
        jar: SimpleCookie = SimpleCookie()
        for header in response.headers.getall("Set-Cookie", []):
            jar.load(header)
        return response.status, {"body": body, "headers": response.headers}, jar


async def sign_in(
    shop: Shop, login: str = LOGIN, password: str = PASSWORD, ip: str = "198.51.100.7"
) -> tuple[int, Any, SimpleCookie]:
    return await post(
        shop, "/api/customers/login", ip=ip, json={"login": login, "password": password}
    )


async def test_login_sets_a_strict_http_only_refresh_cookie(shop: Shop) -> None:
    await shop.register()
    status, answer, jar = await sign_in(shop)
    assert status == 200
    body = answer["body"]
    assert body["policy_acceptance_required"] is False and body["policy_version"]
    morsel = jar["refresh_token"]
    assert morsel["httponly"] and morsel["secure"]
    assert morsel["samesite"] == "Strict" and morsel["path"] == "/api/customers"
    assert int(morsel["max-age"]) == shop.settings.refresh_ttl_s
    conn = await shop.db()
    try:
        rows = await conn.fetch("SELECT * FROM refresh_sessions")
    finally:
        await conn.close()
    assert len(rows) == 1
    assert rows[0]["token_hash"] == hashlib.sha256(morsel.value.encode()).digest()
    assert morsel.value not in str([dict(r) for r in rows])


async def test_cookie_secure_can_be_turned_off(shop_factory: MakeShop) -> None:
    shop = await shop_factory(refresh_cookie_secure=False)
    await shop.register()
    _, _, jar = await sign_in(shop)
    assert not jar["refresh_token"]["secure"]


async def test_refresh_rotates_and_reuse_revokes_the_family(shop: Shop) -> None:
    customer_id = await shop.register()
    _, _, jar = await sign_in(shop)
    first = jar["refresh_token"].value
    status, answer, jar = await post(shop, REFRESH, cookie=first)
    assert status == 200, answer
    second = jar["refresh_token"].value
    assert second != first
    claims = jwt.decode(answer["body"]["access_token"], options={"verify_signature": False})
    assert claims["sub"] == customer_id
    me, _ = await shop.call("GET", "/api/customers/me", token=answer["body"]["access_token"])
    assert me == 200
    # The second token rotates normally once more.
    status, _, jar = await post(shop, REFRESH, cookie=second)
    assert status == 200
    third = jar["refresh_token"].value
    # Someone replays the rotated first token: refused, and the whole family dies.
    status, answer, jar = await post(shop, REFRESH, cookie=first)
    assert status == 401 and jar["refresh_token"].value == ""
    status, _, _ = await post(shop, REFRESH, cookie=third)
    assert status == 401
    # Another sign-in starts a new family that works.
    _, _, jar = await sign_in(shop)
    status, _, _ = await post(shop, REFRESH, cookie=jar["refresh_token"].value)
    assert status == 200


async def test_refresh_without_or_with_unknown_cookie_is_401(shop: Shop) -> None:
    for cookie in (None, "", "nonsense", "x" * 500):
        status, answer, _ = await post(shop, REFRESH, cookie=cookie)
        assert status == 401, cookie
        assert answer["headers"]["Content-Type"].startswith("application/problem+json")


async def test_logout_revokes_the_session(shop: Shop) -> None:
    await shop.register()
    _, _, jar = await sign_in(shop)
    token = jar["refresh_token"].value
    status, _, jar = await post(shop, "/api/customers/logout", cookie=token)
    assert status == 204 and jar["refresh_token"].value == ""
    status, _, _ = await post(shop, REFRESH, cookie=token)
    assert status == 401
    status, _, _ = await post(shop, "/api/customers/logout")  # idempotent, no cookie
    assert status == 204


async def test_password_change_revokes_every_session(shop: Shop) -> None:
    await shop.register()
    _, one, jar_one = await sign_in(shop)
    _, _, jar_two = await sign_in(shop)
    access = one["body"]["access_token"]
    path = "/api/customers/me/password"
    wrong = {"current_password": "not my password", "new_password": "a brand new secret"}
    status, body = await shop.call("POST", path, token=access, json=wrong)
    assert status == 403 and "secret" not in str(body)
    right = {"current_password": PASSWORD, "new_password": "a brand new secret"}
    status, _ = await shop.call("POST", path, token=access, json=right)
    assert status == 204
    for jar in (jar_one, jar_two):
        status, _, _ = await post(shop, REFRESH, cookie=jar["refresh_token"].value)
        assert status == 401
    status, _, _ = await sign_in(shop)
    assert status == 401
    status, fresh, _ = await sign_in(shop, password="a brand new secret")
    assert status == 200
    status, _ = await shop.call(
        "POST",
        path,
        token=fresh["body"]["access_token"],
        json={"current_password": "x", "new_password": "short"},
    )
    assert status == 422


async def test_login_rehashes_when_argon2_parameters_change(shop_factory: MakeShop) -> None:
    old = await shop_factory()
    customer_id = await old.register()

    async def stored_hash() -> str:
        conn = await old.db()
        try:
            value: str = await conn.fetchval(
                "SELECT password_hash FROM customers WHERE id = $1", UUID(customer_id)
            )
            return value
        finally:
            await conn.close()

    before = await stored_hash()
    assert before.startswith("$argon2id$") and "t=1," in before
    stronger = await shop_factory(argon2_time_cost=2, argon2_memory_kib=9 * 1024)
    status, _, _ = await sign_in(stronger)
    assert status == 200
    after = await stored_hash()
    assert after != before and "m=9216,t=2," in after
    status, _, _ = await sign_in(old)  # still verifies, whatever the parameters
    assert status == 200


async def test_issued_tokens_carry_the_jwks_kid(shop: Shop) -> None:
    await shop.register()
    token = await shop.login(LOGIN)
    _, jwks = await shop.call("GET", "/api/customers/.well-known/jwks.json")
    assert jwt.get_unverified_header(token)["kid"] == jwks["keys"][0]["kid"]
