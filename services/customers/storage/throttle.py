"""Sign-in throttling: failures per (realm, account, client network), bounded in storage.

A row holds a count and the time of the latest failure; the delay they imply is the domain's
rule (``backoff_delay_s``). ``NETWORK_WIDE`` is the account of a network's own counter.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

from shared.db import DbConn

Realm = Literal["customer", "staff", "password"]
NETWORK_WIDE = b""


@dataclass(frozen=True)
class Failures:
    account: bytes
    failures: int
    last_failure_at: datetime
    now: datetime  # the database's clock, the one the rows were written with


async def failures(
    conn: DbConn, realm: Realm, network: str, accounts: Sequence[bytes], forget_after_s: int
) -> list[Failures]:
    """The live counters of these accounts (and ``NETWORK_WIDE``) from this network."""
    rows = await conn.fetch(
        "SELECT account, failures, last_failure_at, now() AS now FROM login_backoff"
        " WHERE realm = $1 AND network = $2 AND account = ANY($3::bytea[])"
        " AND last_failure_at > now() - $4::interval",
        realm,
        network,
        list(accounts),
        timedelta(seconds=forget_after_s),
    )
    return [
        Failures(bytes(r["account"]), r["failures"], r["last_failure_at"], r["now"]) for r in rows
    ]


async def record_failure(
    conn: DbConn, realm: Realm, network: str, accounts: Sequence[bytes], forget_after_s: int
) -> None:
    """Count one failure on each account's counter (one statement; a stale count restarts)."""
    await conn.execute(
        "INSERT INTO login_backoff AS b (realm, account, network, failures, last_failure_at)"
        " SELECT $1, account, $2, 1, now() FROM unnest($3::bytea[]) AS account"
        " ON CONFLICT (realm, account, network) DO UPDATE SET"
        " failures = CASE WHEN b.last_failure_at <= now() - $4::interval THEN 1"
        " ELSE b.failures + 1 END, last_failure_at = now()",
        realm,
        network,
        sorted(set(accounts)),
        timedelta(seconds=forget_after_s),
    )


async def clear_failures(conn: DbConn, realm: Realm, network: str, account: bytes) -> None:
    """A success forgets this account's failures from this network (not the network's)."""
    await conn.execute(
        "DELETE FROM login_backoff WHERE realm = $1 AND network = $2 AND account = $3",
        realm,
        network,
        account,
    )


async def purge_failures(conn: DbConn, forget_after_s: int) -> int:
    """Delete the counters nobody failed on for ``forget_after_s``; return how many."""
    result: str = await conn.execute(
        "DELETE FROM login_backoff WHERE last_failure_at <= now() - $1::interval",
        timedelta(seconds=forget_after_s),
    )
    return int(result.split()[-1])
