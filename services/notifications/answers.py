"""What the notifications handlers answer, as models for the OpenAPI document (``routes.py``);
the schemathesis run (tests/notifications/test_openapi.py) checks live answers against them.
The handlers build their dicts themselves; these only describe them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict

from services.notifications.campaign_domain import CampaignStatus, PromotionFacts
from services.notifications.domain import Channel
from services.notifications.erasure_confirmation import Status

FORBID = ConfigDict(extra="forbid")


class Applied(BaseModel):
    model_config = FORBID
    applied: Literal[True]


class StopAnswer(BaseModel):
    """Whether the text was a STOP recorded with customers."""

    model_config = FORBID
    stop: bool


class Waiting(BaseModel):
    model_config = FORBID
    until: datetime
    reason: str | None


class Campaign(BaseModel):
    """A campaign and its progress in counts, never a person (``campaigns.view``)."""

    model_config = FORBID
    id: UUID
    status: CampaignStatus
    channel: Channel
    promotion_id: UUID
    promotion: PromotionFacts
    scheduled_at: datetime
    created_at: datetime
    created_by: UUID
    audience: int | None  # null until the campaign starts
    sent: int
    failed: int
    failures: dict[str, int]  # reason code -> count
    skipped: dict[str, int]
    waiting: Waiting | None  # null unless held (quiet hours, mail away)
    started_at: datetime | None
    finished_at: datetime | None
    ended_reason: str | None


class CampaignList(BaseModel):
    """Campaigns, newest first; ``next_before`` is null on the last page."""

    model_config = FORBID
    items: list[Campaign]
    next_before: datetime | None


class Delivery(BaseModel):
    model_config = FORBID
    kind: str
    channel: Channel
    template: str
    locale: Literal["ru", "kk", "en"] | None
    status: Literal["sending", "sent", "failed", "skipped"]
    reason: str | None
    order_ref: str | None
    reference: str | None
    release_id: UUID | None
    at: datetime


class CustomerExport(BaseModel):
    """The customer's delivery log, oldest first."""

    model_config = FORBID
    notifications: list[Delivery]


class ConfirmationAnswer(BaseModel):
    model_config = FORBID
    status: Status | Literal["already_sent"]
