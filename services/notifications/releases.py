"""The customers service releases the contact at send time (purpose service_communication)."""

from __future__ import annotations

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
