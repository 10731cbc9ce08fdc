"""Access ends at once in the customers service (issue 8): a logout refuses that session's
access token on the very next request, on every replica; a password change refuses every
token issued before it; another session's token lives on; revocations go out as
``AccessRevoked`` (ids and times only) and are purged once no token they end can live."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import datetime, timedelta
from uuid import UUID, uuid4

import jwt

from services.customers.keys import ISSUER
from services.customers.web import sessions as web_sessions
from shared import revocations
from shared.revocations import REVOCATIONS, Revocation, Revocations
from tests.customers.conftest import MakeShop, Shop
from tests.customers.test_sessions import LOGIN, PASSWORD, post, sign_in

ME = "/api/customers/me"
BOUND_S = 10.0


async def signed_in(shop: Shop) -> tuple[str, str]:
    """(access token, refresh cookie) of a new session."""
    status, answer, jar = await sign_in(shop)
    assert status == 200
    return answer["body"]["access_token"], jar["refresh_token"].value


async def me_status(shop: Shop, token: str) -> int:
    status, body = await shop.call("GET", ME, token=token)
    if status == 401:
        assert body["status"] == 401 and body["title"] == "Unauthorized"  # a problem
    return status


async def eventually_refused(shop: Shop, token: str) -> int:
    deadline = time.monotonic() + BOUND_S
    while (status := await me_status(shop, token)) != 401 and time.monotonic() < deadline:
        await asyncio.sleep(0.02)
    return status


async def test_logout_refuses_the_token_at_once_and_other_sessions_live_on(
    shop: Shop,
) -> None:
    await shop.register()
    phone, phone_cookie = await signed_in(shop)
    laptop, _ = await signed_in(shop)
    assert await me_status(shop, phone) == 200
    status, _, _ = await post(shop, "/api/customers/logout", cookie=phone_cookie)
    assert status == 204
    assert await me_status(shop, phone) == 401  # the very next request
    assert await me_status(shop, laptop) == 200
    claims = jwt.decode(phone, options={"verify_signature": False})
    assert claims["sid"] != jwt.decode(laptop, options={"verify_signature": False})["sid"]


async def test_a_refreshed_token_of_a_logged_out_session_is_refused_too(shop: Shop) -> None:
    await shop.register()
    first, cookie = await signed_in(shop)
    status, answer, jar = await post(shop, "/api/customers/token/refresh", cookie=cookie)
    assert status == 200
    second = answer["body"]["access_token"]
    status, _, _ = await post(shop, "/api/customers/logout", cookie=jar["refresh_token"].value)
    assert status == 204
    assert await me_status(shop, first) == 401
    assert await me_status(shop, second) == 401


async def test_logout_with_the_bearer_token_alone_ends_its_session(shop: Shop) -> None:
    await shop.register()
    token, cookie = await signed_in(shop)
    status, _, _ = await post(
        shop, "/api/customers/logout", headers={"Authorization": f"Bearer {token}"}
    )
    assert status == 204
    assert await me_status(shop, token) == 401
    status, _, _ = await post(shop, "/api/customers/token/refresh", cookie=cookie)
    assert status == 401  # its refresh family ended with it


async def test_another_replica_refuses_the_token_as_soon_as_it_hears(
    shop_factory: MakeShop,
) -> None:
    one = await shop_factory()
    two = await shop_factory()
    await one.register()
    token, cookie = await signed_in(one)
    assert await me_status(two, token) == 200
    status, _, _ = await post(one, "/api/customers/logout", cookie=cookie)
    assert status == 204
    assert await eventually_refused(two, token) == 401


async def test_password_change_refuses_every_token_issued_before(shop: Shop) -> None:
    customer_id = UUID(await shop.register())
    phone, _ = await signed_in(shop)
    laptop, _ = await signed_in(shop)
    conn = await shop.db()
    try:
        await web_sessions.create(conn, customer_id, 3600)  # signed in on the account pages
    finally:
        await conn.close()
    new = {"current_password": PASSWORD, "new_password": "a brand new secret"}
    status, _ = await shop.call("POST", "/api/customers/me/password", token=phone, json=new)
    assert status == 204
    assert await me_status(shop, phone) == 401
    assert await me_status(shop, laptop) == 401
    conn = await shop.db()
    try:
        assert await conn.fetchval("SELECT count(*) FROM web_sessions") == 0
    finally:
        await conn.close()
    status, answer, _ = await sign_in(shop, LOGIN, "a brand new secret")
    assert status == 200
    assert await me_status(shop, answer["body"]["access_token"]) == 200


async def test_the_event_carries_ids_and_times_only(shop: Shop) -> None:
    customer_id = await shop.register()
    _, cookie = await signed_in(shop)
    before = datetime.now().astimezone()
    await post(shop, "/api/customers/logout", cookie=cookie)
    conn = await shop.db()
    try:
        body = await conn.fetchval(
            "SELECT body FROM outbox WHERE message_type = 'customers.access.revoked'"
        )
    finally:
        await conn.close()
    event = json.loads(body)
    assert set(event) == {"customer_id", "session_id", "revoked_at", "keep_until"}
    assert event["customer_id"] == customer_id and UUID(event["session_id"])
    revoked_at = datetime.fromisoformat(event["revoked_at"])
    keep_until = datetime.fromisoformat(event["keep_until"])
    assert revoked_at >= before - timedelta(seconds=1)
    # Kept as long as a token issued just before may live (the access TTL, plus leeway).
    assert keep_until - revoked_at >= timedelta(seconds=shop.settings.access_token_ttl_s)


async def test_revocations_are_purged_after_keep_until(shop: Shop) -> None:
    await shop.register()
    token, cookie = await signed_in(shop)
    await post(shop, "/api/customers/logout", cookie=cookie)
    conn = await shop.db()
    try:
        assert await revocations.purge(conn) == 0  # still needed
        await conn.execute("UPDATE access_revocations SET keep_until = now() - interval '1 s'")
        assert await revocations.purge(conn) == 1
        assert await conn.fetchval("SELECT count(*) FROM access_revocations") == 0
    finally:
        await conn.close()
    held = shop.app[REVOCATIONS]
    assert len(held) == 1 and await me_status(shop, token) == 401
    held.forget_expired(time.time() + shop.settings.access_token_ttl_s + 61)
    assert len(held) == 0


def test_the_set_in_memory_refuses_what_it_should_and_forgets() -> None:
    held = Revocations()
    customer, other, sid = uuid4(), uuid4(), uuid4()
    now = time.time()
    held.add(Revocation(customer, sid, now, now + 900))
    held.add(Revocation(other, None, now, now + 60))
    assert held.revoked(customer, sid, now - 10)
    assert not held.revoked(customer, uuid4(), now - 10)  # another session of the customer
    assert held.revoked(other, uuid4(), now - 10) and held.revoked(other, None, now)
    assert not held.revoked(other, uuid4(), now + 0.001)  # signed in after the change
    held.forget_expired(now + 61)
    assert len(held) == 1 and not held.revoked(other, None, now)
    held.forget_expired(now + 901)
    assert len(held) == 0


async def test_a_lost_listener_reconnects_and_reloads(shop: Shop) -> None:
    customer_id = UUID(await shop.register())
    token, _ = await signed_in(shop)
    conn = await shop.db()
    try:
        killed = await conn.fetchval(
            "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
            " WHERE application_name = 'access_revoked' AND datname = current_database()"
        )
        assert killed == 1
        # Inserted while nobody listens (as a consumer of another replica would).
        await conn.execute(
            "INSERT INTO access_revocations (customer_id, session_id, revoked_at, keep_until)"
            " VALUES ($1, NULL, now(), now() + interval '1 hour')",
            customer_id,
        )
    finally:
        await conn.close()
    assert await eventually_refused(shop, token) == 401


async def test_a_revoked_or_expired_bearer_sent_along_does_not_block_refresh_or_login(
    shop: Shop,
) -> None:
    """A route that needs no token ignores a bad one; a route that needs one refuses it."""
    customer_id = UUID(await shop.register())
    stale, _ = await signed_in(shop)
    new = {"current_password": PASSWORD, "new_password": "a brand new secret"}
    status, _ = await shop.call("POST", "/api/customers/me/password", token=stale, json=new)
    assert status == 204 and await me_status(shop, stale) == 401  # revoked
    expired = shop.app[ISSUER].issue(customer_id, "customer", session_id=uuid4())
    expired = jwt.encode(
        {**jwt.decode(expired, options={"verify_signature": False}), "exp": 1},
        shop.settings.private_key_pem(),
        algorithm="EdDSA",
    )
    for bad in (stale, expired):
        bearer = {"Authorization": f"Bearer {bad}"}
        status, answer, jar = await post(
            shop,
            "/api/customers/login",
            headers=bearer,
            json={"login": LOGIN, "password": "a brand new secret"},
        )
        assert status == 200
        status, answer, _ = await post(
            shop, "/api/customers/token/refresh", cookie=jar["refresh_token"].value, headers=bearer
        )
        assert status == 200 and answer["body"]["access_token"]
        assert await me_status(shop, bad) == 401
        assert await me_status(shop, answer["body"]["access_token"]) == 200
        status, _, _ = await post(shop, "/api/customers/logout", headers=bearer)
        assert status == 204
