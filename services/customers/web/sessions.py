"""Server-side sessions of the account pages (plain SQL).

The browser holds 32 random bytes (base64url) in an HttpOnly cookie; the table holds their
SHA-256 only. Nothing here is personal data.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
from uuid import UUID

from shared.db import DbConn

TOUCH_AFTER_S = 60  # last_seen_at is written at most once a minute per session


def new_session_id() -> str:
    return base64.urlsafe_b64encode(secrets.token_bytes(32)).rstrip(b"=").decode()


def session_hash(session_id: str) -> bytes | None:
    """SHA-256 of the raw id, or None when the cookie is not one of ours."""
    if len(session_id) != 43:
        return None
    try:
        raw = base64.urlsafe_b64decode(session_id + "=")
    except (binascii.Error, ValueError):
        return None
    return hashlib.sha256(raw).digest() if len(raw) == 32 else None


async def create(conn: DbConn, customer_id: UUID, max_age_s: int) -> str:
    session_id = new_session_id()
    await conn.execute(
        "INSERT INTO web_sessions (id_hash, customer_id, expires_at)"
        " VALUES ($1, $2, now() + make_interval(secs => $3))",
        session_hash(session_id),
        customer_id,
        max_age_s,
    )
    return session_id


async def resolve(conn: DbConn, session_id: str, idle_s: int) -> UUID | None:
    """The customer of a live session (not expired, not idle too long), touching it."""
    id_hash = session_hash(session_id)
    if id_hash is None:
        return None
    customer_id: UUID | None = await conn.fetchval(
        "UPDATE web_sessions SET last_seen_at = CASE"
        "   WHEN last_seen_at < now() - make_interval(secs => $3) THEN now()"
        "   ELSE last_seen_at END"
        " WHERE id_hash = $1 AND expires_at > now()"
        "   AND last_seen_at > now() - make_interval(secs => $2)"
        " RETURNING customer_id",
        id_hash,
        idle_s,
        TOUCH_AFTER_S,
    )
    return customer_id


async def delete(conn: DbConn, session_id: str) -> None:
    id_hash = session_hash(session_id)
    if id_hash is not None:
        await conn.execute("DELETE FROM web_sessions WHERE id_hash = $1", id_hash)


async def purge_expired(conn: DbConn) -> int:
    result: str = await conn.execute("DELETE FROM web_sessions WHERE expires_at <= now()")
    return int(result.split()[-1])
