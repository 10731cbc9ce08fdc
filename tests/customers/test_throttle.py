"""Sign-in throttling without lock-out: a growing delay per (account, client network),
customers and staff counted apart, the same answer for unknown accounts, stale counters purged.
"""

from __future__ import annotations

from typing import Any

from services.customers.keys import ACCOUNTS
from services.customers.storage import throttle
from tests.customers.conftest import MakeShop, Shop
from tests.customers.test_sessions import LOGIN, PASSWORD, post, sign_in

STAFF_EMAIL = "officer@shop.kz"
STAFF_PASSWORD = "a long staff password"
ATTACKER = "203.0.113.7"
OWNER = "198.51.100.20"


async def fail(shop: Shop, login: str, times: int, ip: str = ATTACKER) -> None:
    for _ in range(times):
        status, _, _ = await sign_in(shop, login, "wrong password", ip=ip)
        assert status == 401


async def age_counters(shop: Shop, seconds: int) -> None:
    """Move every failure back in time, as if the client had waited."""
    conn = await shop.db()
    try:
        await conn.execute(
            "UPDATE login_backoff"
            " SET last_failure_at = last_failure_at - make_interval(secs => $1)",
            float(seconds),
        )
    finally:
        await conn.close()


async def staff_login(shop: Shop, password: str, ip: str = ATTACKER) -> tuple[int, Any]:
    status, answer, _ = await post(
        shop,
        "/api/customers/staff/login",
        ip=ip,
        json={"email": STAFF_EMAIL, "password": password},
    )
    return status, answer


async def test_failures_from_one_network_never_lock_the_owner_out_elsewhere(
    shop_factory: MakeShop,
) -> None:
    shop = await shop_factory(login_free_failures_account=5)
    await shop.register()
    await fail(shop, LOGIN, 5)
    status, answer, _ = await sign_in(shop, LOGIN, PASSWORD, ip=ATTACKER)
    assert status == 429 and int(answer["headers"]["Retry-After"]) >= 1
    assert answer["headers"]["Content-Type"].startswith("application/problem+json")
    # The owner at home, on another network: not slowed at all.
    status, _, _ = await sign_in(shop, LOGIN, PASSWORD, ip=OWNER)
    assert status == 200
    # Nor by the phone of the same account from there.
    status, _, _ = await sign_in(shop, "+77012345678", PASSWORD, ip=OWNER)
    assert status == 200


async def test_customer_failures_with_a_staff_email_do_not_slow_the_staff_login(
    shop: Shop,
) -> None:
    conn = await shop.db()
    try:
        await shop.app[ACCOUNTS].add_staff(conn, STAFF_EMAIL, STAFF_PASSWORD, ["support"])
    finally:
        await conn.close()
    await fail(shop, STAFF_EMAIL, 5)  # at the customer endpoint, from the same network
    status, _, _ = await sign_in(shop, STAFF_EMAIL, STAFF_PASSWORD, ip=ATTACKER)
    assert status == 429  # that endpoint is slowed for this login and network
    status, answer = await staff_login(shop, STAFF_PASSWORD)
    assert status == 200, answer
    # Staff failures have their own counter, and their own back-off.
    for _ in range(shop.settings.login_free_failures_account):
        status, _ = await staff_login(shop, "nope")
        assert status == 401
    status, answer = await staff_login(shop, STAFF_PASSWORD)
    assert status == 429 and int(answer["headers"]["Retry-After"]) >= 1


async def test_the_delay_doubles_with_each_failure_up_to_the_cap(shop_factory: MakeShop) -> None:
    shop = await shop_factory(login_free_failures_account=3, login_max_delay_s=8)
    await shop.register()
    await fail(shop, LOGIN, 3)
    waits = []
    for _ in range(5):
        status, answer, _ = await sign_in(shop, LOGIN, "wrong password", ip=ATTACKER)
        assert status == 429  # refused without trying the password
        wait = int(answer["headers"]["Retry-After"])
        waits.append(wait)
        await age_counters(shop, wait)  # the attacker waits, then fails again
        await fail(shop, LOGIN, 1)
    assert waits == [1, 2, 4, 8, 8]
    # The right password after the wait signs in and forgets this network's failures.
    await age_counters(shop, 8)
    status, _, _ = await sign_in(shop, LOGIN, PASSWORD, ip=ATTACKER)
    assert status == 200
    await fail(shop, LOGIN, 2)
    status, _, _ = await sign_in(shop, LOGIN, PASSWORD, ip=ATTACKER)
    assert status == 200


async def test_the_answer_is_the_same_for_unknown_accounts(shop_factory: MakeShop) -> None:
    shop = await shop_factory(login_free_failures_account=3)
    await shop.register()
    answers = {}
    for login in (LOGIN, "nobody@example.kz"):
        await fail(shop, login, 3)
        status, answer, _ = await sign_in(shop, login, PASSWORD, ip=ATTACKER)
        assert status == 429
        body = answer["body"]
        answers[login] = (answer["headers"]["Retry-After"], body["title"], body["detail"])
    assert answers[LOGIN] == answers["nobody@example.kz"]


async def test_a_network_is_slowed_over_all_accounts_and_replicas_share_it(
    shop_factory: MakeShop,
) -> None:
    one = await shop_factory(login_free_failures_account=100, login_free_failures_network=4)
    two = await shop_factory(login_free_failures_account=100, login_free_failures_network=4)
    await one.register()
    for n, replica in enumerate((one, two, one, two)):
        status, _, _ = await sign_in(replica, f"guess{n}@example.kz", "x", ip=f"203.0.113.{n}")
        assert status == 401
    # Another address of the same /24, on either replica: slowed, even for a real account.
    status, _, _ = await sign_in(two, LOGIN, PASSWORD, ip="203.0.113.200")
    assert status == 429
    status, _, _ = await sign_in(one, LOGIN, PASSWORD, ip="203.0.114.1")
    assert status == 200
    conn = await one.db()
    try:
        networks = {r["network"] for r in await conn.fetch("SELECT network FROM login_backoff")}
    finally:
        await conn.close()
    assert networks == {"203.0.113.0/24"}  # never a full address


async def test_ipv6_clients_are_counted_per_48(shop_factory: MakeShop) -> None:
    shop = await shop_factory(login_free_failures_account=100, login_free_failures_network=2)
    for n in range(2):
        await sign_in(shop, f"g{n}@example.kz", "x", ip=f"2001:db8:1:{n}::1")
    status, _, _ = await sign_in(shop, "g9@example.kz", "x", ip="2001:db8:1:ffff::9")
    assert status == 429
    status, _, _ = await sign_in(shop, "g9@example.kz", "x", ip="2001:db8:2::1")
    assert status == 401


async def test_stale_counters_are_forgotten_and_purged(shop_factory: MakeShop) -> None:
    shop = await shop_factory(login_free_failures_account=2, login_forget_after_s=3600)
    await shop.register()
    await fail(shop, LOGIN, 2)
    await fail(shop, "other@example.kz", 1, ip=OWNER)
    await age_counters(shop, 3600)
    status, _, _ = await sign_in(shop, LOGIN, PASSWORD, ip=ATTACKER)
    assert status == 200  # a day-old count no longer slows anyone
    conn = await shop.db()
    try:
        assert await throttle.purge_failures(conn, 3600) > 0
        assert await conn.fetchval("SELECT count(*) FROM login_backoff") == 0
    finally:
        await conn.close()
