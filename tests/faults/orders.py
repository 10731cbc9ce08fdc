"""Cash-on-delivery orders placed through the gateway while faults happen, and the ledger that
says whether any was lost or doubled.

A shopper is what a careful client is: a request that got no answer or a 5xx (a replica
killed under it, a gateway with no upstream for a moment, a database away) is sent again, a
checkout always with its own ``Idempotency-Key`` (so a retry is the same order), an
add-to-cart only when the cart does not hold the line yet. Orders start at a fixed rate
(open loop) so the faults land among orders at every step of the flow.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import re
import time
import uuid
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import asyncpg

from bench.shoppers import CHECKOUT, Api, register_and_login
from tests.faults.shop import FaultShop

RETRY_FOR_S = 120.0  # how long a shopper keeps trying one request through the faults
RETRY_PAUSE_S = 0.25
SIGN_UP_CONCURRENCY = 8


class GaveUp(Exception):
    """A request kept failing past RETRY_FOR_S."""


@dataclass
class Shopper:
    token: str
    product_id: str
    lock: asyncio.Lock = field(default_factory=asyncio.Lock)  # one cart: one order at a time


@dataclass
class Ledger:
    """What the shoppers were told: order id -> order_ref, and what they had to retry."""

    placed: dict[str, str] = field(default_factory=dict)
    retried: collections.Counter[str] = field(default_factory=collections.Counter)
    failed: list[str] = field(default_factory=list)
    started: int = 0


async def call_until_answered(
    api: Api, ledger: Ledger, label: str, method: str, path: str, **kwargs: Any
) -> tuple[int, Any]:
    """The request again and again while it gets no answer or a 5xx."""
    deadline = time.monotonic() + RETRY_FOR_S
    while True:
        try:
            status, body = await api.call(method, path, **kwargs)
            if status < 500:
                return status, body
            ledger.retried[f"{label} {status}"] += 1
        except (aiohttp.ClientError, TimeoutError) as exc:
            ledger.retried[f"{label} {type(exc).__name__}"] += 1
        if time.monotonic() > deadline:
            raise GaveUp(f"{label}: no answer for {RETRY_FOR_S} s")
        await asyncio.sleep(RETRY_PAUSE_S)


async def sign_up(api: Api, count: int, products: list[str]) -> list[Shopper]:
    status, policy = await api.call("GET", "/api/customers/policy")
    assert status == 200, policy
    limit, run = asyncio.Semaphore(SIGN_UP_CONCURRENCY), uuid.uuid4().hex[:6]

    async def one(n: int) -> Shopper:
        async with limit:
            _, token = await register_and_login(
                api, n, f"fault-{run}-{n}@example.kz", f"fault password {n}",
                policy["version"], marketing_email=False,
            )  # fmt: skip
        return Shopper(token, products[n % len(products)])

    return list(await asyncio.gather(*(one(n) for n in range(count))))


async def place_order(api: Api, shopper: Shopper, ledger: Ledger) -> None:
    async with shopper.lock:
        line = {"product_id": shopper.product_id, "quantity": 1}
        while True:
            status, cart = await call_until_answered(
                api, ledger, "cart", "GET", "/api/orders/cart", token=shopper.token
            )
            if status == 200 and any(i["product_id"] == shopper.product_id for i in cart["items"]):
                break
            try:
                status, _body = await api.call(
                    "POST", "/api/orders/cart/items", token=shopper.token, json=line
                )
                if status in (200, 201):
                    break
                ledger.retried[f"add {status}"] += 1
            except (aiohttp.ClientError, TimeoutError) as exc:
                ledger.retried[f"add {type(exc).__name__}"] += 1
            await asyncio.sleep(RETRY_PAUSE_S)  # then look at the cart again
        key = {"Idempotency-Key": str(uuid.uuid4())}
        while True:
            status, order = await call_until_answered(
                api, ledger, "checkout", "POST", "/api/orders/checkout",
                token=shopper.token, json=CHECKOUT, headers=key,
            )  # fmt: skip
            if status in (200, 201):
                ledger.placed[order["id"]] = order["order_ref"]
                return
            if status == 409 and order and order.get("title") == "Cart changed":
                ledger.retried["checkout 409 cart changed"] += 1
                await asyncio.sleep(RETRY_PAUSE_S)
                continue
            ledger.failed.append(f"checkout {status} {order}")
            return


async def place_orders(
    api: Api, shoppers: list[Shopper], ledger: Ledger, count: int, rate: float
) -> None:
    """``count`` orders started ``rate`` a second, each by the next shopper in turn
    (``ledger.started`` counts them: the faults wait for it)."""
    tasks = []
    started = time.monotonic()
    for n in range(count):
        delay = started + n / rate - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
        tasks.append(asyncio.create_task(place_order(api, shoppers[n % len(shoppers)], ledger)))
        ledger.started += 1
    await asyncio.gather(*tasks)


async def reached(ledger: Ledger, orders: float) -> None:
    """Until ``orders`` orders have started."""
    while ledger.started < orders:
        await asyncio.sleep(0.05)


# ------------------------------------------------------------------------------ the ledger

ORDER_REF = re.compile(r"\b[0-9A-Z]{4}-[0-9A-Z]{4}\b")


@dataclass
class Accounts:
    """Everything counted after the run, per order_ref."""

    statuses: dict[str, str]  # order_ref -> status in the orders database
    orders_in_db: int
    at_courier: collections.Counter[str]
    mails: dict[str, collections.Counter[str]]  # order_ref -> subject -> distinct mails
    copies: int  # mails the sink got again (one Message-ID twice): sent, then not recorded
    dead: dict[str, int]
    mail_log: dict[str, list[str]] = field(default_factory=dict)  # ref -> each mail, in short

    def lost(self, placed: dict[str, str]) -> list[str]:
        refs = set(placed.values())
        return sorted(
            ref for ref in refs if self.statuses.get(ref) != "delivered" or not self.at_courier[ref]
        )

    def doubled(self, placed: dict[str, str]) -> list[str]:
        refs = set(placed.values())
        twice = {ref for ref in refs if self.at_courier[ref] > 1}
        twice |= {ref for ref, kinds in self.mails.items() if any(n > 1 for n in kinds.values())}
        return sorted(twice)


async def delivered(shop: FaultShop, placed: dict[str, str]) -> dict[str, str]:
    conn = await asyncpg.connect(shop.dsns["orders"])
    try:
        rows = await conn.fetch(
            "SELECT order_ref, status FROM orders WHERE id = ANY($1::uuid[])", list(placed)
        )
    finally:
        await conn.close()
    return {r["order_ref"]: r["status"] for r in rows}


async def count_orders(shop: FaultShop) -> int:
    conn = await asyncpg.connect(shop.dsns["orders"])
    try:
        return int(await conn.fetchval("SELECT count(*) FROM orders"))
    finally:
        await conn.close()


def mails_by_order(
    shop: FaultShop, refs: set[str]
) -> tuple[dict[str, collections.Counter[str]], dict[str, list[str]]]:
    """Per order_ref: how many mails of each subject, and each mail (subject, Message-ID,
    recipient, time received) for the failure message."""
    found: dict[str, collections.Counter[str]] = collections.defaultdict(collections.Counter)
    seen: dict[str, list[str]] = collections.defaultdict(list)
    ids: set[str] = set()
    for mail in shop.sink.messages:
        message_id = str(mail.message.get("Message-ID"))
        if message_id in ids:  # the same mail again
            continue
        ids.add(message_id)
        text = mail.subject + "\n" + mail.body()
        for ref in set(ORDER_REF.findall(text)) & refs:
            found[ref][mail.subject] += 1
            seen[ref].append(
                f"{mail.subject} {mail.message.get('Message-ID')} {mail.rcpt_tos}"
                f" {mail.received_at.time()}"
            )
    return found, seen


async def account(shop: FaultShop, placed: dict[str, str], dead: dict[str, int]) -> Accounts:
    refs = set(placed.values())
    mails, mail_log = mails_by_order(shop, refs)
    return Accounts(
        statuses=await delivered(shop, placed),
        orders_in_db=await count_orders(shop),
        at_courier=collections.Counter(
            d["order_ref"] for d in shop.courier.received if d["order_ref"] in refs
        ),
        mails=mails,
        copies=len(shop.sink.messages)
        - len({str(m.message.get("Message-ID")) for m in shop.sink.messages}),
        dead=dead,
        mail_log=mail_log,
    )


async def all_delivered(shop: FaultShop, placed: dict[str, str], timeout: float) -> float:
    """Wait until every placed order is delivered; return how long it took."""
    started = time.monotonic()
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while True:
                statuses = await delivered(shop, placed)
                if len(statuses) == len(placed) and set(statuses.values()) == {"delivered"}:
                    break
                await asyncio.sleep(1)
    return time.monotonic() - started


async def all_mailed(
    shop: FaultShop,
    placed: dict[str, str],
    per_order: int,
    timeout: float,
) -> float:
    """Wait until the sink holds ``per_order`` distinct mails for every placed order."""
    started, refs = time.monotonic(), set(placed.values())

    async def done() -> bool:
        mails, _ = mails_by_order(shop, refs)
        return all(sum(mails.get(ref, {}).values()) >= per_order for ref in refs)

    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(timeout):
            while not await done():
                await asyncio.sleep(1)
    return time.monotonic() - started


async def outbox_backlog(shop: FaultShop) -> dict[str, int]:
    """Unpublished outbox rows per service (what a stuck relay would leave)."""
    found = {}
    for service in ("catalog", "orders", "customers", "notifications"):
        conn = await asyncpg.connect(shop.dsns[service])
        try:
            found[service] = int(
                await conn.fetchval("SELECT count(*) FROM outbox WHERE published_at IS NULL")
            )
        finally:
            await conn.close()
    return found
