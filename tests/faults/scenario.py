"""One fault run: shoppers sign up, FAULT_ORDERS orders are placed at FAULT_RATE while the
faults of a test module happen, then everything is counted (``Outcome``); and the tests
every fault run must pass (``EveryOrderOnce``)."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import aiohttp

from bench.shoppers import Api
from tests.faults.orders import (
    Accounts,
    Ledger,
    account,
    all_delivered,
    all_mailed,
    outbox_backlog,
    place_orders,
    sign_up,
)
from tests.faults.shop import FaultShop

# FAULT_ORDERS: orders per run (the 1000); FAULT_RATE: orders started per second.
ORDERS = int(os.environ.get("FAULT_ORDERS", "1000"))
RATE = float(os.environ.get("FAULT_RATE", "20"))
SHOPPERS = int(os.environ.get("FAULT_SHOPPERS", "50"))
# A bound for the run to end, not a timing asserted.
DELIVERY_BOUND_S = float(os.environ.get("FAULT_BOUND_S", "300"))
MAILS_PER_ORDER = 3  # placed, dispatched, delivered
Faults = Callable[[Ledger, list[str]], Awaitable[None]]
Queues = Callable[[], dict[str, list[str]]]  # queue -> [type, messages, members...]


@dataclass
class Outcome:
    ledger: Ledger
    accounts: Accounts
    events: list[str]
    ready: dict[str, int]
    queues_before: dict[str, list[str]]
    queues: dict[str, list[str]]
    figures: dict[str, float] = field(default_factory=dict)


async def run_with_faults(shop: FaultShop, faults: Faults, queues: Queues) -> Outcome:
    ledger, events = Ledger(), []
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as session:
        api = Api(session, shop.gateway_url)
        _, page = await api.call("GET", "/api/catalog/products?limit=50")
        products = [p["id"] for p in page["items"] if p["in_stock"]]
        shoppers = await sign_up(api, SHOPPERS, products)
        queues_before = await asyncio.to_thread(queues)
        started = time.monotonic()
        await asyncio.gather(
            place_orders(api, shoppers, ledger, ORDERS, RATE), faults(ledger, events)
        )
        placed_s = time.monotonic() - started
        delivered_s = await all_delivered(shop, ledger.placed, DELIVERY_BOUND_S)
        mailed_s = await all_mailed(shop, ledger.placed, MAILS_PER_ORDER, DELIVERY_BOUND_S)
        await asyncio.sleep(3)  # a late duplicate would show by now
        ready = await shop.readiness(session)
    after = await asyncio.to_thread(queues)
    backlog = await outbox_backlog(shop)
    dead = {name: int(q[1]) for name, q in after.items() if name.endswith(".dead")}
    accounts = await account(shop, ledger.placed, dead)
    figures = {"placed_s": placed_s, "delivered_s": delivered_s, "mailed_s": mailed_s}
    print(
        f"\n{len(ledger.placed)} orders placed in {placed_s:.1f} s"
        f" ({len(ledger.placed) / placed_s:.1f}/s), all delivered {delivered_s:.1f} s later,"
        f" all mailed {mailed_s:.1f} s after that; {len(shop.sink.messages)} mails at the sink"
        f" ({accounts.copies} of them the same message again)"
        f"\nfaults: {events}\nretried by shoppers: {dict(ledger.retried)}"
        f"\nunpublished outbox rows: {backlog}"
        f"\nqueues holding messages: { {n: q[1] for n, q in after.items() if q[1] != '0'} }"
    )
    return Outcome(ledger, accounts, events, ready, queues_before, after, figures)


class EveryOrderOnce:
    """The tests every fault run ends with, on the module's ``outcome`` fixture: a module
    collects them with a ``Test...`` subclass."""

    async def test_no_order_lost(self, outcome: Outcome) -> None:
        ledger, accounts = outcome.ledger, outcome.accounts
        assert not ledger.failed, ledger.failed[:5]
        assert len(ledger.placed) == ORDERS
        assert accounts.lost(ledger.placed) == []

    async def test_no_order_doubled(self, outcome: Outcome) -> None:
        ledger, accounts = outcome.ledger, outcome.accounts
        assert accounts.orders_in_db == ORDERS  # one order per checkout, retries included
        assert sorted(accounts.at_courier) == sorted(ledger.placed.values())
        assert set(accounts.at_courier.values()) == {1}
        doubled = accounts.doubled(ledger.placed)
        assert doubled == [], {ref: accounts.mail_log.get(ref) for ref in doubled[:5]}

    async def test_each_mail_once(self, outcome: Outcome) -> None:
        mails = outcome.accounts.mails
        placed = outcome.ledger.placed.values()
        counts = {ref: sum(mails.get(ref, {}).values()) for ref in placed}
        wrong = {ref: n for ref, n in counts.items() if n != MAILS_PER_ORDER}
        assert not wrong, {ref: outcome.accounts.mail_log.get(ref) for ref in list(wrong)[:5]}

    async def test_nothing_parked_and_every_replica_ready(self, outcome: Outcome) -> None:
        assert set(outcome.accounts.dead.values()) == {0}, outcome.accounts.dead
        assert set(outcome.ready.values()) == {200}, outcome.ready
        kinds = {name: q[0] for name, q in outcome.queues.items()}
        assert set(outcome.queues_before) <= set(kinds)
        assert set(kinds.values()) == {"quorum"}, kinds
