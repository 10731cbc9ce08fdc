"""Use case: the audience of a campaign or a notice, and its contacts page by page.

Notifications asks how many would get it now (``audience_size``) and then walks the audience
in customer-id order (``contact_batch``): each page is one transaction in which every item is
released (the minimal projection, an audit row and a register row naming the campaign or the
notice), so the page reflects the consents at the moment it is asked for: a withdrawal made
mid-campaign keeps the customer out of every later page. Nothing but the page is in memory.
"""

from __future__ import annotations

from typing import Any

from shared.db import DbConn

from . import storage
from .domain import CONTACT_FIELDS
from .personal_data import ContactRelease, PdGate
from .request_models import AudienceQuery, ContactBatchRequest

# Contact batches go to the notifications service (its mail and SMS providers).
RECIPIENT = "notifications"


async def audience_size(conn: DbConn, gate: PdGate, query: AudienceQuery) -> int:
    _, audience, _ = await gate.audience(conn, query.purpose, query.channel, RECIPIENT)
    return await storage.audience_size(conn, audience)


def item(release: ContactRelease, contact_field: str) -> dict[str, Any]:
    return {
        "customer_id": str(release.customer_id),
        "release_id": str(release.release_id),
        "locale": release.locale,
        "first_name": release.fields["first_name"],
        "contact": release.fields[contact_field],
    }


async def contact_batch(conn: DbConn, gate: PdGate, body: ContactBatchRequest) -> dict[str, Any]:
    """The next page after ``body.after``, released; ``next_after`` None at the end."""
    async with gate.transaction(conn):
        released, next_after = await gate.release_audience_page(
            conn,
            purpose=body.purpose,
            channel=body.channel,
            recipient=RECIPIENT,
            reference=body.reference,
            after=body.after,
            limit=body.limit,
        )
    field = CONTACT_FIELDS[body.channel]
    return {
        "items": [item(release, field) for release in released],
        "next_after": str(next_after) if next_after is not None else None,
    }
