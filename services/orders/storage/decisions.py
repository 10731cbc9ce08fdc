"""Automated decisions about a customer (Law 94-V art. 19-1), kept for the review of an
objection: the checkout velocity refusals."""

from __future__ import annotations

from uuid import UUID, uuid4

import asyncpg

from shared.db import DbConn


async def record_decision(
    conn: DbConn,
    *,
    customer_id: UUID,
    attempt: str,
    rule: str,
    attempts: int,
    limit_per_min: int,
    retry_after_s: int,
) -> UUID:
    """Record a velocity refusal; a retry of the same attempt gets the first decision's id."""
    decision_id: UUID = await conn.fetchval(
        "INSERT INTO automated_decisions (id, kind, customer_id, attempt, rule, attempts,"
        " limit_per_min, retry_after_s) VALUES ($1, 'checkout_velocity', $2, $3, $4, $5, $6, $7)"
        " ON CONFLICT (attempt) DO UPDATE SET attempt = EXCLUDED.attempt RETURNING id",
        uuid4(),
        customer_id,
        attempt,
        rule,
        attempts,
        limit_per_min,
        retry_after_s,
    )
    return decision_id


async def get_decision(conn: DbConn, decision_id: UUID) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, kind, customer_id, rule, attempts, limit_per_min, retry_after_s, decided_at"
        " FROM automated_decisions WHERE id = $1",
        decision_id,
    )
    return row


async def customer_decisions(conn: DbConn, customer_id: UUID) -> list[asyncpg.Record]:
    """A customer's automated decisions, newest first (their export)."""
    return list(
        await conn.fetch(
            "SELECT id, kind, rule, attempts, limit_per_min, retry_after_s, decided_at"
            " FROM automated_decisions WHERE customer_id = $1 ORDER BY decided_at DESC, id",
            customer_id,
        )
    )


async def delete_customer_decisions(conn: DbConn, customer_id: UUID) -> int:
    """Erasure: the customer's decisions go (an objection to one ends with the account)."""
    result: str = await conn.execute(
        "DELETE FROM automated_decisions WHERE customer_id = $1", customer_id
    )
    return int(result.split()[-1])
