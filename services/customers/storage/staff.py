"""Staff accounts (the operator's employees): insert, find by email index, new hash."""

from __future__ import annotations

from uuid import UUID

import asyncpg

from shared.db import DbConn

from .customers import Conflict


async def insert_staff(
    conn: DbConn, staff_id: UUID, email_index: bytes, password_hash: str, roles: list[str]
) -> None:
    try:
        await conn.execute(
            "INSERT INTO staff (id, email_index, password_hash, roles) VALUES ($1, $2, $3, $4)",
            staff_id,
            email_index,
            password_hash,
            sorted(set(roles)),
        )
    except asyncpg.UniqueViolationError:
        raise Conflict from None


async def find_staff(conn: DbConn, email_index: bytes) -> asyncpg.Record | None:
    row: asyncpg.Record | None = await conn.fetchrow(
        "SELECT id, password_hash, roles FROM staff WHERE email_index = $1 AND active",
        email_index,
    )
    return row


async def update_staff_hash(conn: DbConn, staff_id: UUID, password_hash: str) -> None:
    await conn.execute("UPDATE staff SET password_hash = $2 WHERE id = $1", staff_id, password_hash)
