"""PostgreSQL access: one asyncpg pool per service, owned by the aiohttp app."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
from aiohttp import web
from asyncpg.pool import PoolConnectionProxy

PG_POOL = web.AppKey("pg_pool", asyncpg.Pool)
# A connection as handlers receive it: direct, or borrowed from the pool.
DbConn = asyncpg.Connection | PoolConnectionProxy


async def _init_connection(conn: asyncpg.Connection) -> None:
    # jsonb columns come and go as Python objects rather than strings.
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


async def _skip_session_reset(_conn: asyncpg.Connection) -> None:
    """asyncpg still rolls back an open transaction on release; the default reset query
    (UNLISTEN, RESET ALL, advisory unlock) costs one more round trip per checkout of a
    connection. Pooled connections here never carry session state: LISTEN uses its own
    connection, advisory locks are transaction-scoped, settings are never changed."""


async def create_pool(dsn: str, *, min_size: int = 2, max_size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        dsn,
        min_size=min_size,
        max_size=max_size,
        init=_init_connection,
        reset=_skip_session_reset,
    )
    assert pool is not None
    return pool


POOL_CLOSE_S = 10.0


async def close_pool(pool: asyncpg.Pool) -> None:
    """Close gracefully (connections released first), but never wait past ``POOL_CLOSE_S``:
    a connection still held by a task that did not stop is then terminated."""
    try:
        await asyncio.wait_for(pool.close(), POOL_CLOSE_S)
    except TimeoutError:
        pool.terminate()


def pg_pool_ctx(
    dsn: str, *, min_size: int = 2, max_size: int = 10
) -> Callable[[web.Application], AsyncIterator[None]]:
    """An aiohttp ``cleanup_ctx`` that opens the pool at start-up and closes it at shutdown."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        pool = await create_pool(dsn, min_size=min_size, max_size=max_size)
        app[PG_POOL] = pool
        yield
        await close_pool(pool)

    return ctx


def unreachable(exc: BaseException) -> bool:
    """A failure of the way to a server (the database restarting or gone, a peer's socket
    refused or reset), not of the request: worth a 503 and a retry, not a 500."""
    if isinstance(exc, asyncpg.exceptions.DataError):  # a bad argument: our bug
        return False
    return isinstance(
        exc,
        OSError
        | asyncpg.PostgresConnectionError
        | asyncpg.exceptions.OperatorInterventionError  # shutting down, starting up
        | asyncpg.InterfaceError  # the connection died under a transaction
        | asyncpg.exceptions.InternalClientError,
    )


def record_to_dict(record: asyncpg.Record | None) -> dict[str, Any] | None:
    return dict(record) if record is not None else None
