"""Retention: each kind of data is kept only until its purpose is reached (Law 94-V art. 12(2),
18, 25(2)(4)), then destroyed or depersonalised.

A service states its rules as data (``Rule``: the kind, the table, the column that dates a
row, the setting holding the period, delete or depersonalise); work that is not one table's
rows (a dead queue on the broker, the inactive accounts' notice and erasure) is a ``Sweep``
with a function. One runner applies them all on a schedule (``retention_ctx``), in short
batches taken with ``FOR UPDATE SKIP LOCKED`` by a condition the batch itself makes false, so
replicas may run side by side and a repeated run does nothing new. Each rule's run writes one
row to ``retention_runs`` (kind, action, cutoff, count, at): counts, never values; a batch
adds to the count in the transaction that destroys its rows.

Depersonalising (art. 17(1): statistics hold depersonalised data only) replaces the columns
that could single a person out with a constant (``coarsen``) and, for a table of counters,
merges the coarsened rows into one per remaining key, summing ``total``.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Final

import asyncpg
from aio_pika.abc import AbstractRobustConnection
from aiohttp import web

from shared.background import CleanupCtx, task_ctx
from shared.db import PG_POOL
from shared.logging import get_logger
from shared.messaging.dead import drop_dead_before
from shared.service import AMQP
from shared.settings import ServiceSettings

BATCH = 1_000
log = get_logger("shared.retention")
_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")


class Action(StrEnum):
    DELETE = "delete"
    DEPERSONALISE = "depersonalise"
    NOTICE = "notice"  # a person is told before their data goes (inactive accounts)
    ERASE = "erase"  # the erasure use case, for a whole account


@dataclass(frozen=True)
class Rule:
    """Rows of ``table`` whose ``age_column`` is older than the period are destroyed
    (``DELETE``) or depersonalised (``DEPERSONALISE`` with ``coarsen``).

    ``period`` names the setting holding the period: ``*_days`` in days, ``*_s`` in seconds.
    ``where`` is a fixed extra SQL condition (never built from input). For a counter table,
    ``key`` is its primary key and ``total`` the counter that coarsened rows merge into."""

    kind: str
    table: str
    age_column: str
    period: str
    action: Action = Action.DELETE
    where: str = ""
    coarsen: Mapping[str, str] = field(default_factory=dict)
    key: tuple[str, ...] = ()
    total: str = ""
    why: str = ""
    # The retention name the data map gives the holding this rule serves (default: kind).
    holding: str = ""

    def __post_init__(self) -> None:
        names = [self.table, self.age_column, *self.coarsen, *self.key]
        if self.total:
            names.append(self.total)
        bad = [name for name in names if not _IDENTIFIER.match(name)]
        if bad:
            raise ValueError(f"rule {self.kind}: not plain identifiers: {bad}")
        if (self.action is Action.DEPERSONALISE) != bool(self.coarsen):
            raise ValueError(f"rule {self.kind}: depersonalise exactly when coarsen is given")
        if bool(self.total) != bool(self.key):
            raise ValueError(f"rule {self.kind}: key and total go together")


def older_than(
    table: str, age_column: str, period: str, *, why: str, kind: str = "", holding: str = ""
) -> Rule:
    """A rule deleting the rows of ``table`` whose ``age_column`` is older than the setting
    ``period`` (``*_days`` or ``*_s``), named for its table unless ``kind`` says otherwise."""
    return Rule(
        kind=kind or table,
        table=table,
        age_column=age_column,
        period=period,
        why=why,
        holding=holding,
    )


# A sweep destroys (or acts on) what is older than the cutoff and says how many.
SweepFn = Callable[[asyncpg.Pool, datetime], Awaitable[int]]


@dataclass(frozen=True)
class Sweep:
    """Retention work that is not one table's rows; ``run(pool, cutoff)`` returns the count."""

    kind: str
    period: str
    action: Action
    run: SweepFn
    why: str = ""
    holding: str = ""


AnyRule = Rule | Sweep


def serves(rule: AnyRule) -> str:
    """The data map's retention name of what the rule destroys (``Holding.retention``)."""
    return rule.holding or rule.kind


# Retention names of the data maps that shared code other than this runner keeps short.
ELSEWHERE: Final[Mapping[str, str]] = {
    "outbox": "the outbox relay deletes published rows after outbox_retention_s"
    " (shared.messaging.outbox)",
    "access_revocations": "deleted once keep_until, the ended token's lifetime, has passed"
    " (shared.revocations)",
    "block_state": "a copy of the customers service's block state, needed while the account"
    " lives (an older event must not block again); deleted by the erasure (shared.blocking)",
}


@dataclass(frozen=True)
class Run:
    kind: str
    action: Action
    cutoff: datetime
    count: int


def period_of(settings: ServiceSettings, name: str) -> timedelta:
    """The period a setting holds: ``*_days`` in days, ``*_s`` in seconds."""
    value = float(getattr(settings, name))
    if name.endswith("_days"):
        return timedelta(days=value)
    if name.endswith("_s"):
        return timedelta(seconds=value)
    raise ValueError(f"a retention period setting ends in _days or _s: {name}")


def _condition(rule: Rule) -> str:
    parts = [f"{rule.age_column} < $1::timestamptz"]
    if rule.coarsen:
        done = " AND ".join(f"{col} IS NOT DISTINCT FROM {v}" for col, v in rule.coarsen.items())
        parts.append(f"NOT ({done})")
    if rule.where:
        parts.append(f"({rule.where})")
    return " AND ".join(parts)


def batch_sql(rule: Rule) -> str:
    """One batch of the rule: at most $2 rows older than $1; returns how many it took.

    The statement is built from the rule's fixed identifiers and fragments only (checked
    plain in ``Rule``); the cutoff and the batch size are parameters."""
    doomed = (
        f"SELECT ctid FROM {rule.table} WHERE {_condition(rule)}"  # noqa: S608 (fixed fragments)
        " LIMIT $2 FOR UPDATE SKIP LOCKED"
    )
    if rule.action is Action.DELETE:
        return (
            f"WITH gone AS (DELETE FROM {rule.table} WHERE ctid = ANY (ARRAY ({doomed}))"  # noqa: S608
            " RETURNING 1) SELECT count(*) FROM gone"
        )
    if not rule.total:
        sets = ", ".join(f"{col} = {val}" for col, val in rule.coarsen.items())
        return (
            f"WITH done AS (UPDATE {rule.table} SET {sets}"  # noqa: S608 (fixed fragments)
            f" WHERE ctid = ANY (ARRAY ({doomed})) RETURNING 1) SELECT count(*) FROM done"
        )
    keys = ", ".join(rule.key)
    coarse = ", ".join(rule.coarsen.get(col, col) for col in rule.key)
    positions = ", ".join(str(n) for n in range(1, len(rule.key) + 1))
    return (
        f"WITH gone AS (DELETE FROM {rule.table} WHERE ctid = ANY (ARRAY ({doomed}))"  # noqa: S608
        f" RETURNING *), merged AS (INSERT INTO {rule.table} ({keys}, {rule.total})"
        f" SELECT {coarse}, sum({rule.total}) FROM gone GROUP BY {positions}"
        f" ON CONFLICT ({keys}) DO UPDATE"
        f" SET {rule.total} = {rule.table}.{rule.total} + EXCLUDED.{rule.total} RETURNING 1)"
        " SELECT count(*) FROM gone"
    )


async def _start_record(pool: asyncpg.Pool, kind: str, action: Action, cutoff: datetime) -> int:
    async with pool.acquire() as conn:
        record_id: int = await conn.fetchval(
            "INSERT INTO retention_runs (kind, action, cutoff) VALUES ($1, $2, $3) RETURNING id",
            kind,
            action.value,
            cutoff,
        )
    return record_id


async def _finish_record(pool: asyncpg.Pool, record_id: int, count: int | None = None) -> None:
    async with pool.acquire() as conn:
        await conn.execute(
            "UPDATE retention_runs SET finished_at = now(), count = coalesce($2, count)"
            " WHERE id = $1",
            record_id,
            count,
        )


async def apply_rule(pool: asyncpg.Pool, rule: Rule, cutoff: datetime, record_id: int) -> int:
    """Batches until none is full; each adds its count to the record in its transaction."""
    sql = batch_sql(rule)
    done = 0
    while True:
        async with pool.acquire() as conn, conn.transaction():
            taken = int(await conn.fetchval(sql, cutoff, BATCH))
            if taken:
                await conn.execute(
                    "UPDATE retention_runs SET count = count + $2 WHERE id = $1", record_id, taken
                )
        done += taken
        if taken < BATCH:
            return done


async def run_one(
    pool: asyncpg.Pool, rule: AnyRule, settings: ServiceSettings, now: datetime | None = None
) -> Run:
    """Apply one rule with the cutoff its period gives now, recorded in ``retention_runs``."""
    cutoff = (now or datetime.now(UTC)) - period_of(settings, rule.period)
    record_id = await _start_record(pool, rule.kind, rule.action, cutoff)
    if isinstance(rule, Rule):
        count = await apply_rule(pool, rule, cutoff, record_id)
        await _finish_record(pool, record_id)
    else:
        count = await rule.run(pool, cutoff)
        await _finish_record(pool, record_id, count)
    return Run(rule.kind, rule.action, cutoff, count)


async def run_rules(
    pool: asyncpg.Pool, rules: Sequence[AnyRule], settings: ServiceSettings
) -> list[Run]:
    """One run of every rule; a rule that fails is logged by kind and error type, the others
    still run (a broker away must not keep the database's retention from running)."""
    runs: list[Run] = []
    for rule in rules:
        try:
            runs.append(await run_one(pool, rule, settings))
        except (TimeoutError, OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
            log.warning("retention rule failed", kind=rule.kind, error=type(exc).__name__)
        except Exception as exc:  # one broken rule must not stop the others
            log.error("retention rule failed", kind=rule.kind, error=type(exc).__name__)
    return runs


def shared_rules() -> list[Rule]:
    """What every service holds: handled inbox ids, and the run records themselves."""
    return [
        older_than(
            "inbox",
            "handled_at",
            "inbox_retention_days",
            why="a handled message's id only guards against a redelivery, which comes in"
            " minutes; kept well past the dead queues' period",
            kind="inbox_ids",
        ),
        older_than(
            "retention_runs",
            "at",
            "retention_record_days",
            why="the proof that retention ran; counts only",
        ),
    ]


def dead_queue_sweep(connection: AbstractRobustConnection, queue: str) -> Sweep:
    """Messages parked in ``queue``'s dead queue longer than ``dead_queue_retention_days``."""

    async def run(_pool: asyncpg.Pool, cutoff: datetime) -> int:
        return await drop_dead_before(connection, queue, cutoff)

    return Sweep(
        kind="dead_queue_payloads",
        period="dead_queue_retention_days",
        action=Action.DELETE,
        run=run,
        why="a message no retry could handle waits for an operator to replay it, then goes",
    )


def standard_rules(app: web.Application, queue: str) -> list[AnyRule]:
    """The rules of every service: its inbox ids, its run records, its dead queue."""
    return [*shared_rules(), dead_queue_sweep(app[AMQP], queue)]


RulesOf = Callable[[web.Application], Sequence[AnyRule]]


def retention_ctx(rules_of: RulesOf, settings: ServiceSettings, name: str) -> CleanupCtx:
    """A cleanup_ctx running every rule at start-up and then every ``retention_interval_s``.

    ``rules_of(app)`` is called once the app runs (sweeps may use its broker connection)."""

    async def forever(app: web.Application) -> None:
        rules = rules_of(app)
        while True:
            runs = await run_rules(app[PG_POOL], rules, settings)
            done = {run.kind: run.count for run in runs if run.count}
            if done:
                log.info("retention run", service=name, **done)
            await asyncio.sleep(settings.retention_interval_s)

    return task_ctx(f"{name}-retention", forever)
