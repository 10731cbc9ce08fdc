"""The customers service releases the contact at send time (purpose service_communication):
one customer's for an event, or a page of every active customer's for a policy notice."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aiohttp import ClientSession
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.notifications.domain import GONE, NotificationRequest, Release, pick_locale
from shared.auth import INTERNAL_TOKEN_HEADER

PURPOSE = "service_communication"
RECIPIENT = "notifications"


class ReleaseRefused(Exception):
    """No contact may be used (unknown, erased or blocked): skip, do not retry."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class ReleaseFailed(Exception):
    """The release could not be had now (customers away, bad answer): retry later."""


class _Fields(BaseModel):
    model_config = ConfigDict(extra="ignore")
    email: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)
    first_name: str | None = Field(default=None, max_length=200)


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    release_id: UUID
    locale: str | None = None
    fields: _Fields


_REFUSALS = {404: GONE, 409: "blocked"}


async def request_release(
    http: ClientSession, customers_url: str, internal_token: str, request: NotificationRequest
) -> Release:
    body: dict[str, str | None] = {
        "customer_id": str(request.customer_id),
        "purpose": PURPOSE,
        "recipient": RECIPIENT,
        "channel": request.channel,
        "order_ref": request.order_ref,
    }
    if request.placed_at is not None:  # lets customers tell an open obligation of a blocked one
        body["order_placed_at"] = request.placed_at.isoformat()
    if request.notice is not None:  # the one notice owed to a blocked customer (domain)
        body["notice"] = request.notice
    url = f"{customers_url.rstrip('/')}/internal/releases"
    async with http.post(url, json=body, headers={INTERNAL_TOKEN_HEADER: internal_token}) as resp:
        if resp.status in _REFUSALS:
            raise ReleaseRefused(_REFUSALS[resp.status])
        if not 200 <= resp.status < 300:
            raise ReleaseFailed(f"customers answered {resp.status}")
        raw = await resp.read()
    return _parse(raw)


def _parse(raw: bytes) -> Release:
    try:
        answer = _Answer.model_validate_json(raw)
    except ValidationError:
        # The error text would quote the answer, which holds the address: say nothing of it.
        raise ReleaseFailed("malformed release answer") from None
    return Release(
        release_id=answer.release_id,
        locale=pick_locale(answer.locale),
        email=answer.fields.email,
        first_name=answer.fields.first_name,
    )


class _BatchItem(BaseModel):
    model_config = ConfigDict(extra="ignore")
    customer_id: UUID
    release_id: UUID
    locale: str | None = None
    first_name: str | None = Field(default=None, max_length=200)
    contact: str = Field(pattern=r"^[^@\s]+@[^@\s]+$", max_length=320)


class _Batch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[_BatchItem]
    next_after: UUID | None = None


@dataclass(frozen=True)
class ContactBatch:
    """One page of released email contacts, in customer id order: in memory only."""

    releases: list[tuple[UUID, Release]]  # (customer id, its release)
    next_after: UUID | None  # None: the last page


async def request_contact_batch(
    http: ClientSession,
    customers_url: str,
    internal_token: str,
    *,
    reference: UUID,
    after: UUID | None,
    limit: int,
) -> ContactBatch:
    """The next page of email contacts of every active customer (purpose
    service_communication), each a release in their register naming ``reference``."""
    body = {
        "purpose": PURPOSE,
        "channel": "email",
        "reference": str(reference),
        "after": str(after) if after else None,
        "limit": limit,
    }
    url = f"{customers_url.rstrip('/')}/internal/contact-batches"
    async with http.post(url, json=body, headers={INTERNAL_TOKEN_HEADER: internal_token}) as resp:
        if not 200 <= resp.status < 300:
            raise ReleaseFailed(f"customers answered {resp.status}")
        raw = await resp.read()
    try:
        batch = _Batch.model_validate_json(raw)
    except ValidationError:
        raise ReleaseFailed("malformed contact batch") from None  # quotes no address
    releases = [
        (
            item.customer_id,
            Release(item.release_id, pick_locale(item.locale), item.contact, item.first_name),
        )
        for item in batch.items
    ]
    return ContactBatch(releases, batch.next_after)
