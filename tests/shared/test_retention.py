"""Retention rules on real PostgreSQL: each rule destroys (or depersonalises) what is past its
period and keeps what is not, and every run leaves a record of counts, not values."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any
from uuid import UUID, uuid4

import asyncpg
import pytest

from services.catalog import retention as catalog_retention
from services.catalog.app import create_app as catalog_create_app
from services.catalog.config import Settings as CatalogSettings
from services.customers import retention as customers_retention
from services.customers.config import Settings as CustomersSettings
from services.notifications import retention as notifications_retention
from services.notifications.config import Settings as NotificationsSettings
from services.orders import retention as orders_retention
from services.orders.config import Settings as OrdersSettings
from shared.db import create_pool
from shared.retention import ELSEWHERE, Action, Rule, Run, run_one, serves, shared_rules
from shared.service import running_app

MakeDatabase = Callable[[str], Awaitable[str]]


class Db:
    """A migrated database of one service, its pool and a plain connection."""

    def __init__(self, pool: asyncpg.Pool, conn: asyncpg.Connection) -> None:
        self.pool = pool
        self.conn = conn

    async def run(self, rules: tuple[Rule, ...] | list[Rule], kind: str, settings: Any) -> Run:
        [rule] = [r for r in rules if r.kind == kind]
        return await run_one(self.pool, rule, settings)

    async def records(self) -> list[dict[str, Any]]:
        rows = await self.conn.fetch("SELECT * FROM retention_runs ORDER BY id")
        return [dict(r) for r in rows]


@pytest.fixture
async def open_db(make_database: MakeDatabase) -> AsyncIterator[Callable[[str], Awaitable[Db]]]:
    opened: list[Db] = []

    async def open_one(service: str) -> Db:
        dsn = await make_database(service)
        db = Db(await create_pool(dsn, min_size=1, max_size=2), await asyncpg.connect(dsn))
        opened.append(db)
        return db

    yield open_one
    for db in opened:
        await db.conn.close()
        await db.pool.close()


async def test_orders_carts_velocity_and_network_statistics(
    open_db: Callable[[str], Awaitable[Db]],
) -> None:
    db = await open_db("orders")
    settings = OrdersSettings(database_url="postgresql://unused/x")
    conn = db.conn
    old_anonymous, fresh_anonymous, old_signed_in, old_empty = (uuid4() for _ in range(4))
    product = uuid4()
    await conn.execute(
        "INSERT INTO carts (id, customer_id, updated_at) VALUES"
        " ($1, NULL, now() - interval '31 days'), ($2, NULL, now() - interval '29 days'),"
        " ($3, $5, now() - interval '90 days'), ($4, NULL, now() - interval '2 days')",
        old_anonymous,
        fresh_anonymous,
        old_signed_in,
        old_empty,
        uuid4(),
    )
    for cart in (old_anonymous, fresh_anonymous, old_signed_in):
        await conn.execute(
            "INSERT INTO cart_items (cart_id, product_id, quantity) VALUES ($1, $2, 1)",
            cart,
            product,
        )
    await conn.execute(
        "INSERT INTO checkout_velocity (scope, subject, window_start, attempts) VALUES"
        " ('network', '198.51.100.0/24', now() - interval '10 minutes', 3),"
        " ('account', 'c', date_trunc('minute', now()), 1)"
    )
    await conn.execute(
        "INSERT INTO checkout_attempts (window_start, attempt) VALUES"
        " (now() - interval '10 minutes', 'old'), (date_trunc('minute', now()), 'new')"
    )
    await conn.execute(
        "INSERT INTO checkout_network_stats (day, network, geo_city, geo_region, checkouts)"
        " VALUES (current_date - 40, '203.0.113.0/24', 'Алматы', 'Алматы', 2),"
        " (current_date - 40, '198.51.100.0/24', 'Алматы', 'Алматы', 3),"
        " (current_date - 40, '2001:db8:abcd::/48', '', '', 1),"
        " (current_date - 40, '0.0.0.0/0', 'Алматы', 'Алматы', 10),"
        " (current_date - 3, '203.0.113.0/24', 'Алматы', 'Алматы', 4)"
    )

    runs = {
        kind: await db.run(orders_retention.RULES, kind, settings)
        for kind in (
            "anonymous_carts",
            "empty_carts",
            "checkout_velocity",
            "checkout_attempts",
            "checkout_network_stats",
        )
    }

    carts = {r["id"] for r in await conn.fetch("SELECT id FROM carts")}
    assert carts == {fresh_anonymous, old_signed_in}
    assert await conn.fetchval("SELECT count(*) FROM cart_items") == 2
    assert [tuple(r) for r in await conn.fetch("SELECT scope FROM checkout_velocity")] == [
        ("account",)
    ]
    assert [r["attempt"] for r in await conn.fetch("SELECT attempt FROM checkout_attempts")] == [
        "new"
    ]
    stats = {
        (str(r["network"]), r["geo_city"], r["checkouts"], r["recent"])
        for r in await conn.fetch(
            "SELECT network, geo_city, checkouts, day > current_date - 30 AS recent"
            " FROM checkout_network_stats"
        )
    }
    # Old per-network counts are summed per day and city under "any network"; the recent
    # day keeps its network for fraud review.
    assert stats == {
        ("0.0.0.0/0", "Алматы", 15, False),
        ("0.0.0.0/0", "", 1, False),
        ("203.0.113.0/24", "Алматы", 4, True),
    }
    assert {kind: run.count for kind, run in runs.items()} == {
        "anonymous_carts": 1,
        "empty_carts": 1,
        "checkout_velocity": 1,
        "checkout_attempts": 1,
        "checkout_network_stats": 3,
    }
    assert runs["checkout_network_stats"].action is Action.DEPERSONALISE

    records = await db.records()
    assert [(r["kind"], r["count"]) for r in records] == [
        (kind, run.count) for kind, run in runs.items()
    ]
    assert all(r["finished_at"] is not None for r in records)
    dump = "\n".join(str(r) for r in records)
    for value in ("203.0.113", "198.51.100", "2001:db8", "Алматы", str(old_anonymous)):
        assert value not in dump
    assert set(records[0]) == {"id", "kind", "action", "cutoff", "count", "at", "finished_at"}

    # A second run finds nothing new to do, and says so.
    again = await db.run(orders_retention.RULES, "checkout_network_stats", settings)
    assert again.count == 0


async def test_catalog_statistics_keep_no_raw_hits_and_no_small_groups_after_their_periods(
    open_db: Callable[[str], Awaitable[Db]],
) -> None:
    db = await open_db("catalog")
    settings = CatalogSettings(database_url="postgresql://unused/x")  # 7 and 90 days
    await db.conn.execute(
        "INSERT INTO stats_hits (day, path, city, region, browser, os) VALUES"
        " (current_date - 8, '/p/1', 'Караганда', 'Карагандинская', 'Chrome', 'Android'),"
        " (current_date - 2, '/p/1', 'Темиртау', 'Карагандинская', 'Firefox', 'Linux')"
    )
    await db.conn.execute(
        "INSERT INTO stats_daily (day, dimension, value, detail, hits) VALUES"
        " (current_date - 100, 'city', 'Караганда', 'Карагандинская', 1),"
        " (current_date - 100, 'referrer', 'mail.example', '', 2),"
        " (current_date - 100, 'region', 'Карагандинская', '', 3),"
        " (current_date - 100, 'page', '/p/1', '', 3),"
        " (current_date - 10, 'city', 'Караганда', 'Карагандинская', 7)"
    )
    hits = await db.run(catalog_retention.RULES, "stats_hits", settings)
    detail = await db.run(catalog_retention.RULES, "stats_detail", settings)
    assert (hits.count, detail.count) == (1, 2)
    assert await db.conn.fetchval("SELECT city FROM stats_hits") == "Темиртау"
    rows = {
        (r["age"], r["dimension"], r["value"])
        for r in await db.conn.fetch(
            "SELECT current_date - day AS age, dimension, value FROM stats_daily"
        )
    }
    assert rows == {(100, "region", "Карагандинская"), (100, "page", "/p/1"),
                    (10, "city", "Караганда")}  # fmt: skip
    records = await db.records()
    assert [(r["kind"], r["action"], r["count"]) for r in records] == [
        ("stats_hits", "delete", 1),
        ("stats_detail", "delete", 2),
    ]


async def _customer(conn: asyncpg.Connection) -> UUID:
    customer_id = uuid4()
    await conn.execute(
        "INSERT INTO customers (id, locale, policy_version)"
        " SELECT $1, 'ru', version FROM policy_versions LIMIT 1",
        customer_id,
    )
    return customer_id


async def test_customers_sessions_and_sign_in_counters(
    open_db: Callable[[str], Awaitable[Db]],
) -> None:
    db = await open_db("customers")
    settings = CustomersSettings(database_url="postgresql://unused/x", pd_store_region="KZ")
    conn = db.conn
    customer = await _customer(conn)
    await conn.execute(
        "INSERT INTO refresh_sessions (token_hash, family_id, customer_id, created_at, expires_at)"
        " VALUES ('\\x01', $1, $2, now() - interval '40 days', now() - interval '10 days'),"
        " ('\\x02', $1, $2, now() - interval '33 days', now() - interval '3 days'),"
        " ('\\x03', $1, $2, now(), now() + interval '30 days')",
        uuid4(),
        customer,
    )
    await conn.execute(
        "INSERT INTO web_sessions (id_hash, customer_id, expires_at) VALUES"
        " ('\\x01', $1, now() - interval '2 days'), ('\\x02', $1, now() + interval '1 hour')",
        customer,
    )
    await conn.execute(
        "INSERT INTO login_backoff (realm, account, network, failures, last_failure_at) VALUES"
        " ('customer', '\\x01', '198.51.100.0/24', 3, now() - interval '25 hours'),"
        " ('customer', '\\x02', '198.51.100.0/24', 1, now() - interval '1 hour')"
    )
    counts = {
        kind: (await db.run(customers_retention.RULES, kind, settings)).count
        for kind in ("refresh_sessions", "web_sessions", "login_backoff")
    }
    assert counts == {"refresh_sessions": 1, "web_sessions": 1, "login_backoff": 1}
    assert {bytes(r[0]) for r in await conn.fetch("SELECT token_hash FROM refresh_sessions")} == {
        b"\x02",
        b"\x03",
    }
    assert await conn.fetchval("SELECT count(*) FROM web_sessions WHERE expires_at > now()") == 1
    assert await conn.fetchval("SELECT failures FROM login_backoff") == 1
    dump = "\n".join(str(r) for r in await db.records())
    assert str(customer) not in dump and "198.51.100" not in dump


async def test_notifications_delivery_log_inbox_ids_and_old_run_records(
    open_db: Callable[[str], Awaitable[Db]],
) -> None:
    db = await open_db("notifications")
    settings = NotificationsSettings(database_url="postgresql://unused/x")
    conn = db.conn
    customer = uuid4()
    for age_days, kind in ((400, "welcome"), (30, "order_dispatched")):
        await conn.execute(
            "INSERT INTO deliveries (notification_id, customer_id, kind, channel, template,"
            " status, message_id, at) VALUES ($1, $2, $3, 'email', $3, 'sent', $4,"
            " now() - make_interval(days => $5))",
            uuid4(),
            customer,
            kind,
            uuid4(),
            age_days,
        )
    await conn.execute(
        "INSERT INTO inbox (consumer, message_id, message_type, handled_at) VALUES"
        " ('notifications.events', $1, 'x', now() - interval '31 days'),"
        " ('notifications.events', $2, 'x', now() - interval '29 days')",
        uuid4(),
        uuid4(),
    )
    await conn.execute(
        "INSERT INTO retention_runs (kind, action, cutoff, count, at, finished_at) VALUES"
        " ('delivery_log', 'delete', now() - interval '5 years', 7, now() - interval '4 years',"
        "  now() - interval '4 years')"
    )
    delivery = await db.run(notifications_retention.RULES, "delivery_log", settings)
    inbox = await db.run(shared_rules(), "inbox_ids", settings)
    records = await db.run(shared_rules(), "retention_runs", settings)
    assert (delivery.count, inbox.count, records.count) == (1, 1, 1)
    assert [r["kind"] for r in await conn.fetch("SELECT kind FROM deliveries")] == [
        "order_dispatched"
    ]
    assert await conn.fetchval("SELECT count(*) FROM inbox") == 1
    left = await db.records()
    assert [(r["kind"], r["count"]) for r in left] == [
        ("delivery_log", 1),
        ("inbox_ids", 1),
        ("retention_runs", 1),
    ]


def test_every_rule_names_a_documented_period_setting() -> None:
    """Each rule's period is a setting of its service (so it is configurable)."""
    services: list[tuple[Any, tuple[Rule, ...]]] = [
        (CatalogSettings, catalog_retention.RULES),
        (OrdersSettings, orders_retention.RULES),
        (CustomersSettings, customers_retention.RULES),
        (NotificationsSettings, notifications_retention.RULES),
    ]
    for settings_class, rules in services:
        for rule in [*rules, *shared_rules()]:
            assert rule.period in settings_class.model_fields, (settings_class, rule.kind)
            assert rule.why, rule.kind


async def test_the_app_runs_its_rules_on_a_schedule(
    make_database: MakeDatabase, fresh_vhost: str, signing_keys: tuple[str, str]
) -> None:
    """A running catalog applies its rules at start and again every interval (short here):
    a row that ages past its period between runs is taken by a later run."""
    dsn = await make_database("catalog")
    settings = CatalogSettings(
        database_url=dsn,
        # A broker of its own: the run's shared vhost may hold catalog.events declared
        # otherwise by another test (a redeclaration with other arguments is refused).
        amqp_url=fresh_vhost,
        jwt_public_key=signing_keys[1],
        retention_interval_s=0.05,
    )
    conn = await asyncpg.connect(dsn)
    try:
        async with running_app(catalog_create_app(settings)):
            await _eventually(
                conn, "SELECT count(*) >= 2 FROM retention_runs WHERE kind = 'stats_hits'"
            )
            await conn.execute(
                "INSERT INTO stats_hits (day, path, city, region)"
                " VALUES (current_date - 8, '/', 'Астана', 'Астана')"
            )
            await _eventually(conn, "SELECT count(*) = 0 FROM stats_hits")
            await _eventually(
                conn, "SELECT sum(count) = 1 FROM retention_runs WHERE kind = 'stats_hits'"
            )
        kinds = {r["kind"] for r in await conn.fetch("SELECT DISTINCT kind FROM retention_runs")}
    finally:
        await conn.close()
    assert kinds == {
        "stats_visitor_hashes",
        "stats_hits",
        "stats_detail",
        "inbox_ids",
        "retention_runs",
        "dead_queue_payloads",
    }


async def _eventually(conn: asyncpg.Connection, check: str) -> None:
    """Wait until ``check`` holds; the bound is generous: no timing is asserted."""
    async with asyncio.timeout(30):
        while not await conn.fetchval(check):
            await asyncio.sleep(0.05)


def test_every_data_map_holding_has_its_retention_rule() -> None:
    """The data map names a retention rule per holding; each is a rule of the service, kept
    on purpose (KEPT, with why) or kept short by shared code (ELSEWHERE). A new holding
    with a new retention name and no rule fails here."""
    from services.catalog.data_map import DATA_MAP as CATALOG_MAP
    from services.customers.data_map import DATA_MAP as CUSTOMERS_MAP
    from services.notifications.data_map import DATA_MAP as NOTIFICATIONS_MAP
    from services.orders.data_map import DATA_MAP as ORDERS_MAP

    for data_map, module in (
        (CATALOG_MAP, catalog_retention),
        (ORDERS_MAP, orders_retention),
        (CUSTOMERS_MAP, customers_retention),
        (NOTIFICATIONS_MAP, notifications_retention),
    ):
        served = {serves(rule) for rule in [*module.RULES, *shared_rules()]}
        served |= set(getattr(module, "SWEPT", ()))  # names its app-built sweeps serve
        missing = [
            name
            for name in data_map.retention_rules()
            if name not in served and name not in module.KEPT and name not in ELSEWHERE
        ]
        assert missing == [], (data_map.service, missing)
        assert set(module.KEPT).isdisjoint(served), data_map.service
        for rule in module.RULES:  # a rule's table is in the map, held or unlinked
            assert rule.table in data_map.tables() or rule.table in data_map.unlinked


async def test_a_depersonalise_rule_without_counters_blanks_the_columns_once(
    open_db: Callable[[str], Awaitable[Db]],
) -> None:
    """A rule for a table of rows (no counter to merge) sets its columns to the constants."""
    db = await open_db("kit")
    await db.conn.execute(
        "CREATE TABLE visits (at timestamptz NOT NULL, network text, city text NOT NULL);"
        "INSERT INTO visits VALUES (now() - interval '40 days', '198.51.100.0/24', 'Актобе'),"
        " (now() - interval '40 days', NULL, ''), (now(), '203.0.113.0/24', 'Актобе')"
    )
    rule = Rule(
        kind="visits",
        table="visits",
        age_column="at",
        period="inbox_retention_days",  # any *_days setting: 30 days here
        action=Action.DEPERSONALISE,
        coarsen={"network": "NULL", "city": "''"},
        why="test",
    )
    settings = NotificationsSettings(database_url="postgresql://unused/x")
    assert (await run_one(db.pool, rule, settings)).count == 1  # the blank one is skipped
    assert (await run_one(db.pool, rule, settings)).count == 0
    rows = {tuple(r) for r in await db.conn.fetch("SELECT network, city FROM visits")}
    assert rows == {(None, ""), ("203.0.113.0/24", "Актобе")}


def test_a_rule_refuses_what_is_not_a_plain_identifier() -> None:
    with pytest.raises(ValueError, match="identifiers"):
        Rule(kind="x", table="t; DROP TABLE t", age_column="at", period="inbox_retention_days")
    with pytest.raises(ValueError, match="coarsen"):
        Rule(kind="x", table="t", age_column="at", period="inbox_retention_days",
             action=Action.DEPERSONALISE)  # fmt: skip
