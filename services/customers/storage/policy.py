"""Privacy-policy versions: the one in effect, publishing a new one."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from uuid import UUID

import asyncpg

from shared.db import DbConn

from .customers import Conflict


@dataclass(frozen=True)
class Policy:
    version: str
    effective_date: date
    sha256: str
    text_ru: str
    text_kk: str
    sha256_kk: str = ""


async def current_policy(conn: DbConn) -> Policy:
    """The latest version in effect (latest effective date, then latest published)."""
    row = await conn.fetchrow(
        "SELECT version, effective_date, sha256, text_ru, text_kk, sha256_kk FROM policy_versions"
        " WHERE effective_date <= current_date"
        " ORDER BY effective_date DESC, published_at DESC LIMIT 1"
    )
    if row is None:
        raise LookupError("no policy version is in effect")
    return Policy(**dict(row))


async def latest_effective_date(conn: DbConn) -> date | None:
    value: date | None = await conn.fetchval("SELECT max(effective_date) FROM policy_versions")
    return value


async def insert_policy(conn: DbConn, policy: Policy, published_by: UUID) -> None:
    """Append a version; a version string already published is a Conflict."""
    try:
        await conn.execute(
            "INSERT INTO policy_versions (version, effective_date, sha256, text_ru, text_kk,"
            " sha256_kk, published_by) VALUES ($1, $2, $3, $4, $5, $6, $7)",
            policy.version,
            policy.effective_date,
            policy.sha256,
            policy.text_ru,
            policy.text_kk,
            policy.sha256_kk,
            published_by,
        )
    except asyncpg.UniqueViolationError:
        raise Conflict from None
