"""Erasure through the whole shop (the gateway, every service, the stand-ins).

Two customers ask to be erased (``DELETE /api/customers/me`` with the password):

- Dana has nothing open (her one order is cancelled): erased at once; orders and
  notifications confirm; the request completes.
- Erlan has an order with the courier: his erasure is deferred (reason ``open_order``, the
  order named), his sign-in and tokens die at once all the same, the courier still delivers
  (his address was released before), and once the courier's signed callback reports the
  delivery the erasure completes by itself.

Then ``CustomerErased`` delivered once more doubles nothing, and a ``pg_dump`` of every
service's database, the services' logs and the gateway's access log hold no value of either
person, and no row names their customer id except the evidence rows justified below.
"""

from __future__ import annotations

import asyncio
import json
import re
import subprocess
import uuid
from collections.abc import Callable
from typing import Any
from uuid import UUID

import aio_pika
import aiohttp
import asyncpg
import pytest

from deploy.smtp_sink import ReceivedMail
from shared.messaging import EVENTS_EXCHANGE, declare_exchanges, encode_message
from tests.e2e.shopper import ApiClient
from tests.e2e.stack import Stack, dead_letters

pytestmark = pytest.mark.asyncio(loop_scope="session")

PASSWORD = "erasure flow password"
PEOPLE: dict[str, dict[str, Any]] = {
    "dana": {
        "last_name": "Искакова",
        "first_name": "Данагуль",
        "patronymic": "Ермековна",
        "phone": "+7 705 314 15 92",
        "email": "dana.erasure.canary@example.kz",
        "delivery_address": {
            "city": "Караганда",
            "street": "улица Ерубаева",
            "house": "27Б",
            "apartment": "64",
            "postal_code": "100008",
            "comment": "калитка у аптеки Шапагат",
        },
    },
    "erlan": {
        "last_name": "Тулегенов",
        "first_name": "Ерланбек",
        "phone": "+7 707 271 82 81",
        "email": "erlan.erasure.canary@example.kz",
        "delivery_address": {
            "city": "Павлодар",
            "street": "улица Кутузова",
            "house": "204",
            "postal_code": "140000",
            "comment": "подъезд у киоска Береке",
        },
    },
}
PHONES = {"dana": ("+77053141592", "7053141592", "705 314 15 92"),
          "erlan": ("+77072718281", "7072718281", "707 271 82 81")}  # fmt: skip

# Where an erased customer's id may still be, and why (docs: services/*/data_map.py):
# evidence the law asks for, keyed by an id that leads to no personal data any more, and the
# revocation of their tokens until the last one expires.
EVIDENCE = {
    "customers": {
        "customers",  # the id, 'erased', the dates: so the id is known to be erased
        "consents",  # Art. 8(4) records: ids, policy version, times
        "disclosures",  # the register of releases: recipient, purpose, field names
        "audit_log",
        "audit_pending",  # who used which fields for what, hash-chained
        "subject_requests",  # the erase request itself (its sealed detail shredded)
        "erasures",  # its progress and confirmations
        "access_revocations",  # until keep_until
        "outbox",  # the ids-only events customers sent (it keeps the id anyway)
    },
    "orders": {"access_revocations"},
    "notifications": {"access_revocations"},
    "catalog": {"access_revocations"},
    "keystore": set(),  # the data keys: an erased customer's is destroyed
}


def pd_values(who: str) -> list[str]:
    person = PEOPLE[who]
    address = person["delivery_address"]
    values = [person["last_name"], person["first_name"], person["email"], *PHONES[who]]
    values += [person["email"].split("@")[0], address["street"], address["comment"]]
    if "patronymic" in person:
        values.append(person["patronymic"])
    return values


# The shop with a courier who confirms only when told, and quick erasure re-checks.
SHOP_TUNING = {
    "customers": {"erasure_chore_interval_s": 0.2, "erasure_recheck_s": 2.0},
    "sandbox_courier": {"auto_confirm": False},
}


async def until(check, timeout: float = 30.0, interval: float = 0.1):
    async with asyncio.timeout(timeout):
        while not (result := await check()):
            await asyncio.sleep(interval)
    return result


async def fetch(dsn: str, query: str, *args: Any) -> list[asyncpg.Record]:
    conn = await asyncpg.connect(dsn)
    try:
        return list(await conn.fetch(query, *args))
    finally:
        await conn.close()


class Person(ApiClient):
    async def sign_up(self, who: str) -> str:
        _, policy = await self.call("GET", "/api/customers/policy")
        body = {
            **PEOPLE[who],
            "password": PASSWORD,
            "accept_policy_version": policy["version"],
            "marketing": {"email": False, "sms": False},
            "locale": "ru",
        }
        status, created = await self.call("POST", "/api/customers/register", json=body)
        assert status == 201, created
        status, tokens = await self.call(
            "POST",
            "/api/customers/login",
            json={"login": PEOPLE[who]["email"], "password": PASSWORD},
        )
        assert status == 200, tokens
        self.token = tokens["access_token"]
        return str(created["id"])

    async def order(self, product_id: str) -> dict[str, Any]:
        status, body = await self.call(
            "POST", "/api/orders/cart/items", json={"product_id": product_id, "quantity": 1}
        )
        assert status == 200, body
        status, order = await self.call(
            "POST",
            "/api/orders/checkout",
            json={"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert status == 201, order
        return dict(order)

    async def status_of(self, order_id: str, wanted: str) -> dict[str, Any] | None:
        status, body = await self.call("GET", f"/api/orders/{order_id}")
        return body if status == 200 and body["status"] == wanted else None

    async def erase(self) -> tuple[int, Any]:
        return await self.call("DELETE", "/api/customers/me", json={"password": PASSWORD})


async def request_state(shop: Stack, request_id: str) -> tuple[str, list[str]]:
    rows = await fetch(
        shop.dsns["customers"],
        "SELECT r.status, coalesce((SELECT array_agg(c.service ORDER BY c.service)"
        " FROM erasure_confirmations c WHERE c.request_id = r.id), '{}') AS confirmed"
        " FROM subject_requests r WHERE r.id = $1",
        UUID(request_id),
    )
    return rows[0]["status"], list(rows[0]["confirmed"])


async def completed(shop: Stack, request_id: str) -> bool:
    return await request_state(shop, request_id) == ("completed", ["notifications", "orders"])


@pytest.fixture(scope="module")
async def erased(shop: Stack) -> dict[str, Any]:
    """Run both erasures once; the tests look at what they left behind."""
    out: dict[str, Any] = {}
    async with aiohttp.ClientSession() as session:
        _, page = await ApiClient(session, shop.gateway_url).call(
            "GET", "/api/catalog/products?limit=50"
        )
        product = next(p for p in page["items"] if p["in_stock"])["id"]

        dana = Person(session, shop.gateway_url)
        dana_id = await dana.sign_up("dana")
        cancelled = await dana.order(product)
        status, _ = await dana.call("POST", f"/api/orders/{cancelled['id']}/cancel")
        assert status == 200
        await until(lambda: dana.status_of(cancelled["id"], "cancelled"))
        await shop.sink.wait_for(
            lambda m: (
                PEOPLE["dana"]["email"] in m.to
                and m.subject == f"Заказ {cancelled['order_ref']} отменён"
            ),
            timeout=20,
        )
        status, dana_answer = await dana.erase()
        assert status == 202, dana_answer
        out["dana"] = {"id": dana_id, "answer": dana_answer, "order": cancelled}
        out["dana"]["confirmation"] = await shop.sink.wait_for(confirmation_to("dana"))
        await until(lambda: completed(shop, dana_answer["request_id"]))

        erlan = Person(session, shop.gateway_url)
        erlan_id = await erlan.sign_up("erlan")
        order = await erlan.order(product)
        dispatched = await until(lambda: erlan.status_of(order["id"], "dispatched"))
        [dispatch] = [d for d in shop.courier.received if d["order_ref"] == order["order_ref"]]
        status, erlan_answer = await erlan.erase()
        assert status == 202, erlan_answer
        out["erlan"] = {
            "id": erlan_id,
            "answer": erlan_answer,
            "order": dispatched,
            "token": erlan.token,
            "me_after": await erlan.call("GET", "/api/customers/me"),
            "login_after": await erlan.call(
                "POST",
                "/api/customers/login",
                json={"login": PEOPLE["erlan"]["email"], "password": PASSWORD},
            ),
        }
        await asyncio.sleep(2.5)  # past a re-check: still waiting for the courier
        out["erlan"]["while_in_delivery"] = await request_state(shop, erlan_answer["request_id"])
        shop.courier.confirm(dispatch["dispatch_id"], "delivered")
        out["erlan"]["mail"] = await shop.sink.wait_for(
            lambda m: (
                PEOPLE["erlan"]["email"] in m.to
                and m.subject == f"Заказ {order['order_ref']} доставлен"
            ),
            timeout=20,
        )
        await until(lambda: completed(shop, erlan_answer["request_id"]), timeout=40)
        out["erlan"]["confirmation"] = await shop.sink.wait_for(confirmation_to("erlan"))
    return out


CONFIRMATION_SUBJECT = "Ваш аккаунт закрыт, персональные данные уничтожаются"


def confirmation_to(who: str) -> Callable[[ReceivedMail], bool]:
    return lambda m: PEOPLE[who]["email"] in m.to and m.subject == CONFIRMATION_SUBJECT


async def test_each_erasure_is_confirmed_by_mail_before_the_address_is_gone(
    erased: dict[str, Any], shop: Stack
) -> None:
    """Sent right before the shred (at once, or once the delivery ended), once each; it
    names the request and points to no account any more."""
    for who in PEOPLE:
        mail = erased[who]["confirmation"]
        assert mail.rcpt_tos == (PEOPLE[who]["email"],)
        text = mail.body()
        assert text.startswith(f"Здравствуйте, {PEOPLE[who]['first_name']}!")
        assert erased[who]["answer"]["request_id"] in text and "/account/" not in text
        assert [m for m in shop.sink.messages if confirmation_to(who)(m)] == [mail]
    rows = await fetch(
        shop.dsns["notifications"],
        "SELECT customer_id, release_id, reference FROM deliveries"
        " WHERE kind = 'erasure_confirmation' AND status = 'sent'",
    )
    assert {r["reference"] for r in rows} == {erased[w]["answer"]["request_id"] for w in PEOPLE}
    assert all(r["customer_id"] is None and r["release_id"] is None for r in rows)


async def test_nothing_open_is_erased_at_once_and_completes_on_the_confirmations(
    erased: dict[str, Any], shop: Stack
) -> None:
    answer = erased["dana"]["answer"]
    # Orders and notifications confirmed while DELETE /me waited: the answer says completed.
    assert answer["status"] == "completed" and "reason" not in answer
    assert answer["confirmations"] == {"orders": True, "notifications": True}
    assert answer["due"]
    counts = await fetch(
        shop.dsns["customers"],
        "SELECT service, counts FROM erasure_confirmations WHERE request_id = $1 ORDER BY 1",
        UUID(answer["request_id"]),
    )
    assert [(r["service"], json.loads(r["counts"])) for r in counts] == [
        ("notifications", {"deliveries_unlinked": 3}),  # welcome, order placed, cancelled
        ("orders", {"orders_unlinked": 1, "carts_deleted": 1}),
    ]
    [order] = await fetch(
        shop.dsns["orders"],
        "SELECT customer_id, status, total_amount FROM orders WHERE id = $1",
        UUID(erased["dana"]["order"]["id"]),
    )
    assert order["customer_id"] is None and order["status"] == "cancelled"
    assert order["total_amount"] > 0  # the sale stays for accounting, unlinked


async def test_an_order_in_delivery_defers_then_completes_on_delivery(
    erased: dict[str, Any], shop: Stack
) -> None:
    erlan = erased["erlan"]
    answer = erlan["answer"]
    assert answer["status"] == "deferred" and answer["reason"] == "open_order"
    assert answer["open_orders"] == [erlan["order"]["order_ref"]]
    assert "delivered or cancelled" in answer["completes_when"] and answer["reason_text"]
    # Closed at once: the token and the password no longer open anything.
    assert erlan["me_after"][0] == 401 and erlan["login_after"][0] == 401
    assert erlan["while_in_delivery"] == ("deferred", [])
    # The delivery went on: the order was delivered and the mail about it sent.
    [order] = await fetch(
        shop.dsns["orders"],
        "SELECT status, customer_id FROM orders WHERE order_ref = $1",
        erlan["order"]["order_ref"],
    )
    assert order["status"] == "delivered" and order["customer_id"] is None
    assert erlan["mail"].rcpt_tos == (PEOPLE["erlan"]["email"],)
    # Then it completed by itself: shredded, both confirmations, the request answered.
    keys = await fetch(
        shop.dsns["keystore"],
        "SELECT count(*) AS n FROM customer_keys WHERE customer_id = $1",
        UUID(erlan["id"]),
    )
    assert keys[0]["n"] == 0
    [request] = await fetch(
        shop.dsns["customers"],
        "SELECT status, resolved_at, reason FROM subject_requests WHERE id = $1",
        UUID(answer["request_id"]),
    )
    assert request["status"] == "completed" and request["resolved_at"] is not None
    assert request["reason"] == "open_order"  # why it had waited stays on the record


async def test_customer_erased_delivered_again_doubles_nothing(
    erased: dict[str, Any], shop: Stack
) -> None:
    [row] = await fetch(
        shop.dsns["customers"],
        "SELECT body FROM outbox WHERE message_type = 'customers.customer.erased'"
        " AND position($1::bytea IN body) > 0",
        erased["dana"]["id"].encode(),
    )
    before = await _counts(shop)
    connection = await aio_pika.connect(shop.amqp_url)
    async with connection:
        channel = await connection.channel(publisher_confirms=True)
        await declare_exchanges(channel)
        exchange = await channel.get_exchange(EVENTS_EXCHANGE)
        message = encode_message(
            bytes(row["body"]),
            message_id=uuid.uuid4(),
            message_type="customers.customer.erased",
            correlation_id=None,
            traceparent=None,
        )
        await exchange.publish(message, routing_key="customers.customer.erased")

    async def both_confirmed_again() -> bool:
        rows = await fetch(
            shop.dsns["orders"],
            "SELECT count(*) AS n FROM outbox"
            " WHERE message_type = 'orders.customer.depersonalised'",
        )
        more = await fetch(
            shop.dsns["notifications"],
            "SELECT count(*) AS n FROM outbox"
            " WHERE message_type = 'notifications.customer.depersonalised'",
        )
        return rows[0]["n"] == 3 and more[0]["n"] == 3

    await until(both_confirmed_again)
    await asyncio.sleep(1.0)  # the confirmations reach customers
    assert await _counts(shop) == before


async def _counts(shop: Stack) -> dict[str, int]:
    queries = {
        "confirmations": "SELECT count(*) AS n FROM erasure_confirmations",
        "requests": "SELECT count(*) AS n FROM subject_requests",
        "shredded": "SELECT (SELECT count(*) FROM audit_log WHERE action = 'shred')"
        " + (SELECT count(*) FROM audit_pending WHERE action = 'shred') AS n",
        "orders": "SELECT count(*) FILTER (WHERE customer_id IS NULL) AS n FROM orders",
        "notifications": "SELECT count(*) FILTER (WHERE customer_id IS NULL) AS n FROM deliveries",
    }
    dsn = {"orders": shop.dsns["orders"], "notifications": shop.dsns["notifications"]}
    return {
        name: (await fetch(dsn.get(name, shop.dsns["customers"]), q))[0]["n"]
        for name, q in queries.items()
    }


def dump(dsn: str) -> str:
    """``pg_dump`` of a database as text, with bytea values decoded too (an outbox body is
    bytes: a value in it must not hide behind hex)."""
    text = subprocess.run(
        ["pg_dump", "--data-only", "--no-owner", dsn], capture_output=True, text=True, check=True
    ).stdout
    decoded = [
        bytes.fromhex(hex_value).decode("utf-8", "replace")
        for hex_value in re.findall(r"\\\\x([0-9a-f]+)", text)
    ]
    return "\n".join([text, *decoded])


def tables_naming(dumped: str, needle: str) -> set[str]:
    """The tables whose COPY data (bytea decoded) holds ``needle``."""
    found: set[str] = set()
    for block in re.finditer(
        r"^COPY public\.(\w+) .*? FROM stdin;\n(.*?)^\\\.$", dumped, re.S | re.M
    ):
        table, rows = block.group(1), block.group(2)
        decoded = " ".join(
            bytes.fromhex(h).decode("utf-8", "replace")
            for h in re.findall(r"\\\\x([0-9a-f]+)", rows)
        )
        if needle in rows or needle in decoded:
            found.add(table)
    return found


async def test_after_erasure_no_dump_and_no_log_leads_back(
    erased: dict[str, Any], shop: Stack, shop_logs
) -> None:
    values = {who: pd_values(who) for who in PEOPLE}
    assert set(shop.dsns) == set(EVIDENCE)  # every database of the shop is dumped
    for service, dsn in shop.dsns.items():
        dumped = dump(dsn)
        assert "COPY public." in dumped  # the dump did dump something
        for who in PEOPLE:
            leaked = [v for v in values[who] if v in dumped]
            assert not leaked, f"{service} dump holds {who}'s {leaked}"
            naming = tables_naming(dumped, erased[who]["id"])
            assert naming <= EVIDENCE[service], f"{service}: {naming - EVIDENCE[service]}"
            if service == "customers":  # the search finds what is there (and no key)
                assert {"customers", "consents", "subject_requests"} <= naming
            if service == "orders":  # the sale is kept, unlinked
                assert tables_naming(dumped, erased[who]["order"]["order_ref"]) >= {"orders"}
    # In orders and notifications the id is left only in the revocations, which expire.
    for service in ("orders", "notifications"):
        rows = await fetch(
            shop.dsns[service],
            "SELECT max(keep_until) - now() AS left FROM access_revocations"
            " WHERE customer_id = ANY($1::uuid[])",
            [UUID(erased[who]["id"]) for who in PEOPLE],
        )
        assert rows[0]["left"] is None or rows[0]["left"].total_seconds() < 16 * 60

    logs = shop_logs.getvalue()
    assert "erasure requested" in logs and "customer depersonalised" in logs
    for who in PEOPLE:
        assert not [v for v in values[who] if v in logs], who
    # No log line ties a person's id to what they bought or were sent.
    for line in logs.splitlines():
        for who in PEOPLE:
            if erased[who]["id"] in line:
                order = erased[who]["order"]
                assert order["id"] not in line and order["order_ref"] not in line, line
    access_log = shop.gateway.access_log.read_text()
    assert "/api/customers/me" in access_log
    for who in PEOPLE:
        assert not [v for v in values[who] if v in access_log]


async def test_no_dead_letters(erased: dict[str, Any], shop: Stack, servers) -> None:
    dead = dead_letters(shop, servers)
    assert dead and all(count == 0 for count in dead.values()), dead
