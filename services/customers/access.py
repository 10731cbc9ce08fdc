"""Ending access at once: a logout ends one session, a password change (and erasure) every
session of a customer, in every service.

Each function runs inside the caller's transaction: it revokes the refresh sessions, records
the revocation in this service's own ``access_revocations`` (its trigger tells every
customers replica at commit) and enqueues ``AccessRevoked`` for the other services (the
outbox). The caller, once committed, adds the returned event to ``app[REVOCATIONS]`` so the
replica that answered refuses the token from its very next request.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import UUID

from shared import revocations
from shared.contracts import AccessRevoked
from shared.db import DbConn
from shared.messaging import enqueue

from . import storage

# A token's exp is checked without leeway; this covers clocks a little apart.
KEEP_LEEWAY_S = 60


def revocation(customer_id: UUID, session_id: UUID | None, access_ttl_s: int) -> AccessRevoked:
    """The event: kept until the last token it ends (issued by now) has expired."""
    at = datetime.now(UTC)
    return AccessRevoked(
        customer_id=customer_id,
        session_id=session_id,
        revoked_at=at,
        keep_until=at + timedelta(seconds=access_ttl_s + KEEP_LEEWAY_S),
    )


async def _publish(conn: DbConn, event: AccessRevoked) -> AccessRevoked:
    await revocations.record(conn, event)
    await enqueue(conn, event, correlation_id=str(event.customer_id))
    return event


async def end_session(
    conn: DbConn, customer_id: UUID, session_id: UUID, access_ttl_s: int
) -> AccessRevoked:
    """Logout: the session's refresh family and its access tokens (the ``sid``) end."""
    await storage.revoke_family(conn, session_id)
    return await _publish(conn, revocation(customer_id, session_id, access_ttl_s))


async def end_all_sessions(conn: DbConn, customer_id: UUID, access_ttl_s: int) -> AccessRevoked:
    """Password change, erasure: every refresh session, account-page session and access
    token issued until now end. A token issued afterwards (a new sign-in) is not affected."""
    await storage.revoke_customer_sessions(conn, customer_id)
    await storage.end_web_sessions(conn, customer_id)
    return await _publish(conn, revocation(customer_id, None, access_ttl_s))
