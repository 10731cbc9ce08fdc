"""Promotions, free of I/O: request models, the status on the clock, what an edit may change,
and the price rule.

The price rule: a product's price under a promotion is its regular price less the percent
(the result rounded down to the tiyn) or less the amount, never below 1 tiyn (a discount is
not a gift; a product priced 0 or 1 tiyn has nothing to take off). When several live
promotions cover a product (by its id or its category) they do not stack: the lowest price
for the customer wins; a tie goes to the promotion that ends first, then the smaller id.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StrictInt,
    model_validator,
)

from services.catalog.domain import MAX_PRICE_TIYN, Name, Slug
from shared.contracts import Money, PromotionDiscount, PromotionEnded, PromotionStarted
from shared.models import StrictBody

MAX_PROMOTION_PRODUCTS = 200
MAX_PROMOTION_DAYS = 366
MIN_PROMOTED_PRICE = 1
MAX_INTERNAL_PRODUCTS = 20
PublicStatus = Literal["scheduled", "live", "ended", "cancelled"]


def _unique(ids: list[UUID]) -> list[UUID]:
    if len(set(ids)) != len(ids):
        raise ValueError("product ids must not repeat")
    return ids


ProductIds = Annotated[
    list[UUID], Field(min_length=1, max_length=MAX_PROMOTION_PRODUCTS), AfterValidator(_unique)
]


class DiscountIn(StrictBody):
    """``{percent}`` or ``{amount, currency}`` (tiyn off each unit), exactly one."""

    percent: StrictInt | None = Field(default=None, ge=1, le=99)
    amount: StrictInt | None = Field(default=None, gt=0, le=MAX_PRICE_TIYN)
    currency: Literal["KZT"] | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> DiscountIn:
        if (self.percent is None) == (self.amount is None):
            raise ValueError("give either 'percent' or 'amount' with 'currency'")
        if (self.amount is None) != (self.currency is None):
            raise ValueError("an 'amount' needs 'currency': 'KZT', a 'percent' none")
        return self


class PromotionIn(StrictBody):
    name: Name
    discount: DiscountIn
    product_ids: ProductIds | None = None
    category: Slug | None = None
    starts_at: AwareDatetime
    ends_at: AwareDatetime

    @model_validator(mode="after")
    def _valid(self) -> PromotionIn:
        if (self.product_ids is None) == (self.category is None):
            raise ValueError("give either 'product_ids' or 'category'")
        check_window(self.starts_at, self.ends_at)
        return self


class PromotionPatch(StrictBody):
    """Only the fields sent change. ``status: ended`` stops a live promotion now,
    ``status: cancelled`` a scheduled one; either comes alone."""

    name: Name | None = None
    discount: DiscountIn | None = None
    product_ids: ProductIds | None = None
    category: Slug | None = None
    starts_at: AwareDatetime | None = None
    ends_at: AwareDatetime | None = None
    status: Literal["ended", "cancelled"] | None = None

    @model_validator(mode="after")
    def _valid(self) -> PromotionPatch:
        sent = self.model_fields_set
        if not sent:
            raise ValueError("send at least one field to change")
        nulls = sorted(name for name in sent if getattr(self, name) is None)
        if nulls:
            raise ValueError(f"these fields cannot be null: {', '.join(nulls)}")
        if "status" in sent and len(sent) > 1:
            raise ValueError("'status' comes alone")
        if {"product_ids", "category"} <= sent:
            raise ValueError("give either 'product_ids' or 'category'")
        return self


class PromotionQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    limit: Annotated[int, Field(ge=1, le=100)] = 20
    cursor: Annotated[str, Field(max_length=200)] | None = None
    status: PublicStatus | None = None


def check_window(starts_at: datetime, ends_at: datetime) -> None:
    if ends_at <= starts_at:
        raise ValueError("'ends_at' must be after 'starts_at'")
    if ends_at - starts_at > timedelta(days=MAX_PROMOTION_DAYS):
        raise ValueError(f"a promotion lasts at most {MAX_PROMOTION_DAYS} days")


# --- the promotion and its status ------------------------------------------------------


@dataclass(frozen=True)
class Discount:
    percent: int | None
    amount: int | None

    @classmethod
    def of(cls, given: DiscountIn) -> Discount:
        return cls(given.percent, given.amount)

    def price(self, regular: int) -> int:
        """The price of a unit under this discount (the rule in the module's docstring)."""
        if self.percent is not None:
            cut = regular * (100 - self.percent) // 100
        else:
            cut = regular - (self.amount or 0)
        return min(regular, max(cut, MIN_PROMOTED_PRICE))

    def view(self) -> dict[str, Any]:
        if self.percent is not None:
            return {"percent": self.percent}
        return {"amount": self.amount, "currency": "KZT"}

    def contract(self) -> PromotionDiscount:
        if self.percent is not None:
            return PromotionDiscount(percent=self.percent)
        return PromotionDiscount(amount=Money(amount=self.amount or 0))


@dataclass(frozen=True)
class Promotion:
    id: UUID
    name: str
    discount: Discount
    product_ids: tuple[UUID, ...]
    category: str | None
    starts_at: datetime
    ends_at: datetime
    status: str  # stored: active | ended_early | cancelled
    stopped_at: datetime | None
    created_at: datetime
    updated_at: datetime

    def public_status(self, now: datetime) -> PublicStatus:
        if self.status == "cancelled":
            return "cancelled"
        if self.status == "ended_early" or now >= self.ends_at:
            return "ended"
        return "scheduled" if now < self.starts_at else "live"

    @property
    def ended_at(self) -> datetime:
        return self.stopped_at or self.ends_at


class PromotionConflict(Exception):
    """The edit does not fit the promotion's status; ``str()`` says why, for the answer."""


_WHILE_SCHEDULED = frozenset({"discount", "product_ids", "category", "starts_at"})


def apply_patch(promotion: Promotion, patch: PromotionPatch, now: datetime) -> Promotion:
    """The promotion after ``patch``; raises ``PromotionConflict`` (not allowed in its
    status) or ``ValueError`` (the result is not a valid promotion)."""
    status = promotion.public_status(now)
    sent = patch.model_fields_set
    if status in ("ended", "cancelled"):
        raise PromotionConflict(f"The promotion is {status}; it cannot change any more.")
    if patch.status is not None:
        return _stop(promotion, patch.status, status, now)
    if status == "live" and sent & _WHILE_SCHEDULED:
        raise PromotionConflict(
            "A live promotion can change only its name and end; end it and start another."
        )
    product_ids, category = promotion.product_ids, promotion.category
    if patch.product_ids is not None:
        product_ids, category = tuple(sorted(patch.product_ids)), None
    elif patch.category is not None:
        product_ids, category = (), patch.category
    changed = replace(
        promotion,
        name=patch.name or promotion.name,
        discount=Discount.of(patch.discount) if patch.discount else promotion.discount,
        product_ids=product_ids,
        category=category,
        starts_at=patch.starts_at or promotion.starts_at,
        ends_at=patch.ends_at or promotion.ends_at,
    )
    check_window(changed.starts_at, changed.ends_at)
    if changed.ends_at <= now:
        raise ValueError("'ends_at' must be in the future (to end it now, send status 'ended')")
    return changed


def _stop(promotion: Promotion, wanted: str, status: str, now: datetime) -> Promotion:
    if wanted == "ended" and status == "live":
        return replace(promotion, status="ended_early", stopped_at=now)
    if wanted == "cancelled" and status == "scheduled":
        return replace(promotion, status="cancelled", stopped_at=now)
    hint = "cancelled" if status == "scheduled" else "ended"
    raise PromotionConflict(f"The promotion is {status}: it can only be {hint}.")


# --- the price rule --------------------------------------------------------------------


@dataclass(frozen=True)
class Offer:
    """A live promotion that covers a product."""

    promotion_id: UUID
    name: str
    discount: Discount
    ends_at: datetime


@dataclass(frozen=True)
class Promoted:
    """The price a product sells at under the winning offer."""

    price: int
    regular_price: int
    offer: Offer


def best_price(regular: int, offers: Iterable[Offer]) -> Promoted | None:
    """The winning offer for a product at ``regular`` tiyn, or None when no offer lowers it."""
    ranked = sorted(
        (offer.discount.price(regular), offer.ends_at, offer.promotion_id, offer)
        for offer in offers
    )
    if not ranked or ranked[0][0] >= regular:
        return None
    price, *_, offer = ranked[0]
    return Promoted(price, regular, offer)


def promoted_prices(
    regular: dict[UUID, int], offers: dict[UUID, list[Offer]]
) -> dict[UUID, Promoted]:
    """The winning offer of each product (id -> regular price) that has one."""
    found = {pid: best_price(price, offers.get(pid, ())) for pid, price in regular.items()}
    return {pid: promoted for pid, promoted in found.items() if promoted is not None}


def with_promotion(view: dict[str, Any], promoted: Promoted | None) -> dict[str, Any]:
    """A storefront product while a promotion lowers its price: the promoted ``price``, the
    ``regular_price`` and the promotion; otherwise the product as it is."""
    if promoted is None:
        return view
    offer = promoted.offer
    return {
        **view,
        "price": _money(promoted.price),
        "regular_price": _money(promoted.regular_price),
        "promotion": {
            "id": str(offer.promotion_id),
            "name": offer.name,
            "ends_at": _iso(offer.ends_at),
        },
    }


def with_internal_price(view: dict[str, Any], promoted: Promoted | None) -> dict[str, Any]:
    """What orders prices carts and checkouts with: ``price`` is what the customer pays now,
    ``regular_price`` the price without promotion (the same when none is live)."""
    if promoted is None:
        return {**view, "regular_price": view["price"], "promotion_id": None}
    return {
        **view,
        "price": _money(promoted.price),
        "regular_price": _money(promoted.regular_price),
        "promotion_id": str(promoted.offer.promotion_id),
    }


# --- views and events ------------------------------------------------------------------


def _iso(at: datetime) -> str:
    return at.isoformat()


def promotion_view(promotion: Promotion, now: datetime) -> dict[str, Any]:
    return {
        "id": str(promotion.id),
        "name": promotion.name,
        "discount": promotion.discount.view(),
        "product_ids": [str(p) for p in promotion.product_ids],
        "category": promotion.category,
        "starts_at": _iso(promotion.starts_at),
        "ends_at": _iso(promotion.ends_at),
        "status": promotion.public_status(now),
        "ended_at": _iso(promotion.ended_at) if promotion.stopped_at else None,
        "created_at": _iso(promotion.created_at),
        "updated_at": _iso(promotion.updated_at),
    }


def _money(amount: int) -> dict[str, Any]:
    return {"amount": amount, "currency": "KZT"}


def internal_promotion_view(
    promotion: Promotion, now: datetime, products: Iterable[tuple[UUID, str, int]]
) -> dict[str, Any]:
    """What the campaigns of notifications show: the products (id, name, regular price)
    with this promotion's own price for each."""
    contract = promotion.discount.contract()
    return {
        "id": str(promotion.id),
        "name": promotion.name,
        "discount": contract.model_dump(mode="json", exclude_none=True),
        "product_ids": [str(p) for p in promotion.product_ids],
        "category": promotion.category,
        "starts_at": _iso(promotion.starts_at),
        "ends_at": _iso(promotion.ends_at),
        "status": promotion.public_status(now),
        "products": [
            {
                "id": str(product_id),
                "name": name,
                "price": _money(promotion.discount.price(price)),
                "regular_price": _money(price),
            }
            for product_id, name, price in products
        ],
    }


def started_event(promotion: Promotion) -> PromotionStarted:
    return PromotionStarted(
        promotion_id=promotion.id,
        name=promotion.name,
        discount=promotion.discount.contract(),
        product_ids=promotion.product_ids,
        category=promotion.category,
        starts_at=promotion.starts_at,
        ends_at=promotion.ends_at,
    )


def ended_event(promotion: Promotion) -> PromotionEnded:
    return PromotionEnded(promotion_id=promotion.id, at=promotion.ended_at)
