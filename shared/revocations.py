"""Revoked access: every replica of every service refuses a revoked token at once.

The customers service publishes ``AccessRevoked`` (one session, or every token of a
customer issued up to a time); each service records it in its own ``access_revocations``
table (its events consumer; in customers the revoking transaction itself) and keeps it
until ``keep_until``, when the last token it ends has expired anyway.

Why a set in memory: the check runs on every authenticated request of every service, so it
costs two dict lookups and no I/O (a database lookup per request would add a round trip to
the hottest paths, checkout included). Why it is correct with several replicas: each replica
LISTENs on its own service's database *before* it loads the table, so nothing inserted
while it starts is missed; every insert, by whichever replica's consumer, fires a NOTIFY at
commit (a trigger), so every replica of that service learns it at once. A listening
connection that is lost is re-opened and the table loaded again (what was inserted meanwhile
is read then). Rows past ``keep_until`` are deleted (any replica may; idempotent) and dropped
from memory, so table and set stay as small as the tokens still alive.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Callable, Iterable
from dataclasses import dataclass
from uuid import UUID

import asyncpg
from aiohttp import web

from shared.contracts import AccessRevoked
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import IncomingMeta

CHANNEL = "access_revoked"
log = get_logger("shared.revocations")


@dataclass(frozen=True)
class Revocation:
    customer_id: UUID
    session_id: UUID | None
    revoked_at: float  # epoch seconds
    keep_until: float


class Revocations:
    """The live revocations of this process: per session id, and per customer the latest
    revoke-all time (a token issued up to it is refused)."""

    def __init__(self) -> None:
        self._sessions: dict[UUID, float] = {}  # session id -> keep until
        self._customers: dict[UUID, tuple[float, float]] = {}  # -> (revoked at, keep until)

    def add(self, item: Revocation) -> None:
        if item.session_id is not None:
            kept = self._sessions.get(item.session_id, 0.0)
            self._sessions[item.session_id] = max(kept, item.keep_until)
            return
        revoked, kept = self._customers.get(item.customer_id, (0.0, 0.0))
        self._customers[item.customer_id] = (
            max(revoked, item.revoked_at),
            max(kept, item.keep_until),
        )

    def replace(self, items: Iterable[Revocation]) -> None:
        self._sessions.clear()
        self._customers.clear()
        for item in items:
            self.add(item)

    def revoked(self, subject: UUID, session_id: UUID | None, issued_at: float) -> bool:
        if session_id is not None and session_id in self._sessions:
            return True
        entry = self._customers.get(subject)
        return entry is not None and issued_at <= entry[0]

    def forget_expired(self, now: float) -> None:
        for sid in [s for s, keep in self._sessions.items() if keep <= now]:
            del self._sessions[sid]
        for cid in [c for c, (_, keep) in self._customers.items() if keep <= now]:
            del self._customers[cid]

    def __len__(self) -> int:
        return len(self._sessions) + len(self._customers)


REVOCATIONS = web.AppKey("access_revocations", Revocations)


def from_event(event: AccessRevoked) -> Revocation:
    return Revocation(
        event.customer_id,
        event.session_id,
        event.revoked_at.timestamp(),
        event.keep_until.timestamp(),
    )


# --- Storage ---------------------------------------------------------------------------------


async def record(conn: DbConn, event: AccessRevoked) -> None:
    """Keep a revocation (the trigger notifies every listening replica at commit)."""
    await conn.execute(
        "INSERT INTO access_revocations (customer_id, session_id, revoked_at, keep_until)"
        " VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        event.customer_id,
        event.session_id,
        event.revoked_at,
        event.keep_until,
    )


async def on_access_revoked(conn: DbConn, event: AccessRevoked, meta: IncomingMeta) -> None:
    """The message handler every service's consumer maps ``AccessRevoked`` to."""
    await record(conn, event)


async def live(conn: DbConn) -> list[Revocation]:
    rows = await conn.fetch(
        "SELECT customer_id, session_id, extract(epoch FROM revoked_at)::float8 AS revoked_at,"
        " extract(epoch FROM keep_until)::float8 AS keep_until FROM access_revocations"
        " WHERE keep_until > now()"
    )
    return [Revocation(**dict(row)) for row in rows]


async def purge(conn: DbConn) -> int:
    """Delete what no live token needs any more; return how many rows."""
    result: str = await conn.execute("DELETE FROM access_revocations WHERE keep_until <= now()")
    return int(result.split()[-1])


# --- The listener ------------------------------------------------------------------------------


class Listener:
    """LISTEN on the service's database, then load; re-open and reload when the connection
    is lost; purge every ``purge_interval_s``."""

    def __init__(
        self,
        dsn: str,
        revocations: Revocations,
        *,
        check_interval_s: float = 1.0,
        purge_interval_s: float = 60.0,
    ) -> None:
        self.dsn = dsn
        self.revocations = revocations
        self.check_interval_s = check_interval_s
        self.purge_interval_s = purge_interval_s
        self._conn: asyncpg.Connection | None = None

    def _notified(self, _conn: DbConn, _pid: int, _channel: str, payload: object) -> None:
        data = json.loads(str(payload))
        session = data["session_id"]
        self.revocations.add(
            Revocation(
                UUID(data["customer_id"]),
                UUID(session) if session else None,
                float(data["revoked_at"]),
                float(data["keep_until"]),
            )
        )

    async def connect(self) -> None:
        conn = await asyncpg.connect(self.dsn, server_settings={"application_name": CHANNEL})
        try:
            await conn.add_listener(CHANNEL, self._notified)
            self.revocations.replace(await live(conn))
        except BaseException:
            await conn.close()
            raise
        self._conn = conn

    async def run(self) -> None:
        last_purge = time.monotonic()
        while True:
            await asyncio.sleep(self.check_interval_s)
            try:
                if self._conn is None or self._conn.is_closed():
                    await self.connect()
                conn = self._conn
                if conn is not None and time.monotonic() - last_purge >= self.purge_interval_s:
                    last_purge = time.monotonic()
                    await purge(conn)
                    self.revocations.forget_expired(time.time())
            except (OSError, asyncpg.PostgresError, asyncpg.InterfaceError) as exc:
                log.warning("revocation listener failed", error=type(exc).__name__)
                await self.close()

    async def close(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):
                await self._conn.close()
            self._conn = None


def revocations_ctx(dsn: str) -> Callable[[web.Application], AsyncIterator[None]]:
    """Keeps ``app[REVOCATIONS]`` current for the app's life (the start fails without it)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        listener = Listener(dsn, app[REVOCATIONS])
        await listener.connect()
        task = asyncio.create_task(listener.run(), name="revocation-listener")
        yield
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        await listener.close()

    return ctx
