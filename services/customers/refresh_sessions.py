"""Refresh sessions: a family of opaque tokens, each used once; a replayed token revokes
its family. The cookie carries the token, the database only its SHA-256."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID, uuid4

from shared.db import DbConn

from . import storage
from .domain import new_refresh_token, refresh_token_hash


@dataclass(frozen=True)
class Session:
    customer_id: UUID
    token: str


async def start(conn: DbConn, customer_id: UUID, ttl_s: int) -> str:
    """A new session family; returns the opaque token for the cookie."""
    token = new_refresh_token()
    await storage.insert_session(conn, refresh_token_hash(token), uuid4(), customer_id, ttl_s)
    return token


async def rotate(conn: DbConn, token: str, ttl_s: int) -> Session | None:
    """Exchange a live token for a new one of the same family. A token that was already
    rotated revokes its family (someone replayed it). None when nothing is granted; call
    inside a transaction and commit even then (the revocation must stay)."""
    token_hash = refresh_token_hash(token)
    row = await storage.lock_session(conn, token_hash)
    if row is None or row["revoked_at"] is not None or row["expired"]:
        return None
    if row["rotated_at"] is not None:
        await storage.revoke_family(conn, row["family_id"])
        return None
    customer = await storage.get_customer(conn, row["customer_id"])
    if customer is None or customer.status == "erased":
        await storage.revoke_family(conn, row["family_id"])
        return None
    await storage.mark_rotated(conn, token_hash)
    fresh = new_refresh_token()
    await storage.insert_session(
        conn, refresh_token_hash(fresh), row["family_id"], customer.id, ttl_s
    )
    return Session(customer.id, fresh)


async def end(conn: DbConn, token: str) -> None:
    row = await storage.lock_session(conn, refresh_token_hash(token))
    if row is not None:
        await storage.revoke_family(conn, row["family_id"])
