"""The customers service decides who a campaign reaches, at the time of each batch:
``GET /internal/audiences`` (how many would be released now) and
``POST /internal/contact-batches`` (the next batch after a customer id, each item one
release in the customer's disclosure register). Contacts live in memory only."""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from aiohttp import ClientError, ClientSession
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from services.notifications.campaign_domain import Recipient
from services.notifications.domain import Channel, pick_locale
from shared.auth import INTERNAL_TOKEN_HEADER

PURPOSE = "marketing"


class CustomersUnavailable(Exception):
    """The customers service did not answer, or not sensibly (nothing of it is quoted)."""


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    customer_id: UUID
    release_id: UUID
    locale: str | None = None
    first_name: str | None = Field(default=None, max_length=200)
    contact: str = Field(min_length=3, max_length=320)


class _Batch(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[_Item]
    next_after: UUID | None = None


class _Audience(BaseModel):
    model_config = ConfigDict(extra="ignore")
    audience: int = Field(ge=0)


@dataclass(frozen=True)
class Batch:
    recipients: list[Recipient]
    next_after: UUID | None


@dataclass(frozen=True)
class Audiences:
    http: ClientSession
    customers_url: str
    internal_token: str

    async def count(self, channel: Channel) -> int:
        raw = await self._call(
            "GET", "/internal/audiences", params={"purpose": PURPOSE, "channel": channel}
        )
        try:
            return _Audience.model_validate_json(raw).audience
        except ValidationError:
            raise CustomersUnavailable("malformed audience") from None

    async def batch(
        self, channel: Channel, reference: UUID, after: UUID | None, limit: int
    ) -> Batch:
        body = {
            "purpose": PURPOSE,
            "channel": channel,
            "reference": str(reference),
            "after": str(after) if after else None,
            "limit": limit,
        }
        raw = await self._call("POST", "/internal/contact-batches", json=body)
        try:
            batch = _Batch.model_validate_json(raw)
        except ValidationError:
            # The error text would quote the answer, which holds contacts: say nothing of it.
            raise CustomersUnavailable("malformed contact batch") from None
        recipients = [
            Recipient(
                customer_id=item.customer_id,
                release_id=item.release_id,
                locale=pick_locale(item.locale),
                first_name=item.first_name,
                contact=item.contact,
            )
            for item in batch.items
        ]
        return Batch(sorted(recipients, key=lambda r: r.customer_id), batch.next_after)

    async def _call(self, method: str, path: str, **kwargs: object) -> bytes:
        url = f"{self.customers_url.rstrip('/')}{path}"
        headers = {INTERNAL_TOKEN_HEADER: self.internal_token}
        try:
            async with self.http.request(method, url, headers=headers, **kwargs) as resp:  # type: ignore[arg-type]
                if not 200 <= resp.status < 300:
                    raise CustomersUnavailable(f"customers answered {resp.status}")
                return await resp.read()
        except (ClientError, TimeoutError) as exc:
            raise CustomersUnavailable(type(exc).__name__) from None
