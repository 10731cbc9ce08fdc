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
    session_id: UUID  # the family: the access tokens' ``sid``


async def start(conn: DbConn, customer_id: UUID, ttl_s: int) -> Session:
    """A new session family; its opaque token is for the cookie."""
    token = new_refresh_token()
    family_id = uuid4()
    await storage.insert_session(conn, refresh_token_hash(token), family_id, customer_id, ttl_s)
    return Session(customer_id, token, family_id)


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
    await storage.mark_active(conn, customer.id)
    fresh = new_refresh_token()
    await storage.insert_session(
        conn, refresh_token_hash(fresh), row["family_id"], customer.id, ttl_s
    )
    return Session(customer.id, fresh, row["family_id"])


async def find(conn: DbConn, token: str) -> tuple[UUID, UUID] | None:
    """(customer id, session id) of a refresh token, spent or not; None when unknown."""
    row = await storage.lock_session(conn, refresh_token_hash(token))
    return (row["customer_id"], row["family_id"]) if row is not None else None
