"""Marketing campaigns, the pure part: statuses and their moves, the promotion's public facts,
what a message says, where the cursor goes. No I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal
from uuid import UUID
from zoneinfo import ZoneInfo

from pydantic import BaseModel, ConfigDict, Field

from services.notifications.domain import Locale, format_tenge

CampaignStatus = Literal["scheduled", "running", "paused", "completed", "cancelled"]
# A claim found unsettled when a runner takes a campaign over: the process stopped between
# the send and its record. It is not sent again (at most once) and counts as failed.
UNKNOWN_AFTER_RESTART = "unknown_after_restart"
KIND = "campaign"  # the delivery log's kind of a campaign's message
PRODUCTS_SHOWN = 5
SHOP_ZONE = ZoneInfo("Asia/Almaty")  # dates in a message are the shop's local dates

# status -> the statuses a marketer's pause or resume may move it from
PAUSABLE: frozenset[CampaignStatus] = frozenset({"scheduled", "running"})
RESUMABLE: frozenset[CampaignStatus] = frozenset({"paused"})


class Money(BaseModel):
    model_config = ConfigDict(extra="ignore")
    amount: int = Field(ge=0)
    currency: Literal["KZT"] = "KZT"


class Discount(BaseModel):
    model_config = ConfigDict(extra="ignore")
    percent: int | None = Field(default=None, ge=1, le=100)
    amount: Money | None = None


class ProductFacts(BaseModel):
    model_config = ConfigDict(extra="ignore")
    name: str = Field(max_length=300)
    price: Money
    regular_price: Money | None = None


class PromotionFacts(BaseModel):
    """What a campaign's message says of the promotion: the catalog's public facts, kept
    with the campaign so every recipient reads the same offer."""

    model_config = ConfigDict(extra="ignore")
    name: str = Field(max_length=300)
    discount: Discount
    starts_at: datetime
    ends_at: datetime
    products: list[ProductFacts] = Field(default_factory=list, max_length=PRODUCTS_SHOWN)


@dataclass(frozen=True)
class Recipient:
    """One item of a contact batch: in memory for its one message only."""

    customer_id: UUID
    release_id: UUID
    locale: Locale
    first_name: str | None
    contact: str


@dataclass(frozen=True)
class Outcome:
    """How one recipient's message ended (the delivery log's status and reason)."""

    status: Literal["sent", "failed"]
    reason: str | None = None
    attempts: int = 1


def discount_text(discount: Discount) -> str:
    if discount.percent is not None:
        return f"{discount.percent}%"
    assert discount.amount is not None
    return format_tenge(discount.amount.amount)


def local_date(at: datetime) -> str:
    return at.astimezone(SHOP_ZONE).strftime("%d.%m.%Y")


def message_context(
    facts: PromotionFacts, first_name: str | None, shop_url: str, unsubscribe_url: str
) -> dict[str, object]:
    """The campaign template's values (``templates/<locale>/campaign.txt``)."""
    return {
        "first_name": first_name,
        "promotion": facts.name,
        "discount": discount_text(facts.discount),
        "ends_on": local_date(facts.ends_at),
        "products": [
            {
                "name": product.name,
                "price": format_tenge(product.price.amount),
                "regular_price": format_tenge(product.regular_price.amount)
                if product.regular_price and product.regular_price.amount > product.price.amount
                else None,
            }
            for product in facts.products
        ],
        "shop_url": shop_url,
        "account_url": f"{shop_url}/account/",
        "unsubscribe_url": unsubscribe_url,
    }


_SMS = {
    "ru": "{name}: скидка {discount} до {ends}. Отказ: STOP на {stop}",
    "kk": "{name}: {ends} дейін {discount} жеңілдік. Бас тарту: STOP {stop}",
    "en": "{name}: {discount} off until {ends}. Opt out: STOP to {stop}",
}
SMS_NAME_MAX = 60


def sms_text(facts: PromotionFacts, locale: Locale, stop_number: str) -> str:
    """A short text (the promotion, its discount, its end) with the stop instruction."""
    name = facts.name if len(facts.name) <= SMS_NAME_MAX else facts.name[: SMS_NAME_MAX - 1] + "…"
    return _SMS[locale].format(
        name=name,
        discount=discount_text(facts.discount),
        ends=local_date(facts.ends_at),
        stop=stop_number,
    )


def cursor_after(
    previous: UUID | None, ordered: Sequence[UUID], done: frozenset[UUID] | set[UUID]
) -> UUID | None:
    """The batch's customers are in keyset order; the cursor moves past the longest run of
    them that is done from the start (the rest come again in the next batch; those of them
    already done are recognised by their delivery row and not sent twice)."""
    cursor = previous
    for customer_id in ordered:
        if customer_id not in done:
            break
        cursor = customer_id
    return cursor


def add_counts(counts: Mapping[str, int], reasons: Sequence[str]) -> dict[str, int]:
    merged = dict(counts)
    for reason in reasons:
        merged[reason] = merged.get(reason, 0) + 1
    return merged


def promotion_over(facts: PromotionFacts, now: datetime) -> bool:
    return facts.ends_at <= now
