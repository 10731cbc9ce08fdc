"""Checkout velocity counters and the per-network checkout statistics (policy 5.6)."""

from __future__ import annotations

import ipaddress
from uuid import UUID

import asyncpg

from shared.db import DbConn

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


async def count_checkout(
    conn: DbConn,
    attempt: str,
    customer_id: UUID,
    network: Network | None,
) -> tuple[int, int, float]:
    """Count a checkout attempt in this minute's window per account and per network.

    Returns (account attempts, network attempts, seconds until the window ends); an attempt
    already counted (a retry) adds nothing. Without a network, 0. The counters are shared
    rows, locked until the transaction ends: call this last in it."""
    row = await conn.fetchrow(
        "WITH w AS (SELECT date_trunc('minute', now()) AS start),"
        " fresh AS (INSERT INTO checkout_attempts (window_start, attempt)"
        "  SELECT start, $3 FROM w ON CONFLICT DO NOTHING RETURNING 1),"
        " counted AS (INSERT INTO checkout_velocity (scope, subject, window_start, attempts)"
        "  SELECT s.scope, s.subject, w.start, 1 FROM w,"
        "   (VALUES ('account', $1), ('network', $2::text)) AS s (scope, subject)"
        "  WHERE s.subject IS NOT NULL AND EXISTS (SELECT 1 FROM fresh)"
        "  ORDER BY s.scope"  # one lock order for every checkout: no deadlock
        "  ON CONFLICT (scope, subject, window_start)"
        "  DO UPDATE SET attempts = checkout_velocity.attempts + 1"
        "  RETURNING scope, attempts),"
        # A retry counted nothing: it reads the counters as they are.
        " seen AS (SELECT v.scope, v.attempts FROM checkout_velocity v, w"
        "  WHERE v.window_start = w.start AND ((v.scope = 'account' AND v.subject = $1)"
        "   OR (v.scope = 'network' AND v.subject = $2::text)))"
        " SELECT"
        " coalesce((SELECT attempts FROM counted WHERE scope = 'account'),"
        "  (SELECT attempts FROM seen WHERE scope = 'account'), 0) AS account,"
        " coalesce((SELECT attempts FROM counted WHERE scope = 'network'),"
        "  (SELECT attempts FROM seen WHERE scope = 'network'), 0) AS network,"
        " extract(epoch FROM (SELECT start FROM w) + interval '1 minute' - now()) AS left_s",
        str(customer_id),
        str(network) if network is not None else None,
        attempt,
    )
    assert row is not None
    return int(row["account"]), int(row["network"]), float(row["left_s"])


async def record_network_checkout(conn: DbConn, network: Network, city: str, region: str) -> None:
    await conn.execute(
        "INSERT INTO checkout_network_stats (day, network, geo_city, geo_region, checkouts)"
        " VALUES (current_date, $1, $2, $3, 1)"
        " ON CONFLICT (day, network, geo_city, geo_region)"
        " DO UPDATE SET checkouts = checkout_network_stats.checkouts + 1",
        network,
        city,
        region,
    )


async def network_stats(conn: DbConn, since_days: int) -> list[asyncpg.Record]:
    return list(
        await conn.fetch(
            "SELECT day, network, geo_city, geo_region, checkouts FROM checkout_network_stats"
            " WHERE day > current_date - $1::int ORDER BY day DESC, checkouts DESC, network",
            since_days,
        )
    )
