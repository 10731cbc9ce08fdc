"""The promotions' pure rules: the price rule with overlapping offers, the status on the
clock, what an edit may change, request validation."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from uuid import UUID, uuid4

import pytest
from pydantic import ValidationError

from services.catalog.promotions import (
    Discount,
    Offer,
    Promotion,
    PromotionConflict,
    PromotionIn,
    PromotionPatch,
    apply_patch,
    best_price,
)

NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


def offer(percent: int | None = None, amount: int | None = None, hours: int = 5) -> Offer:
    return Offer(uuid4(), "Акция", Discount(percent, amount), NOW + timedelta(hours=hours))


def promotion(starts_in_h: float, ends_in_h: float, **overrides: Any) -> Promotion:
    values: dict[str, Any] = {
        "id": uuid4(),
        "name": "Зимняя акция",
        "discount": Discount(10, None),
        "product_ids": (uuid4(),),
        "category": None,
        "starts_at": NOW + timedelta(hours=starts_in_h),
        "ends_at": NOW + timedelta(hours=ends_in_h),
        "status": "active",
        "stopped_at": None,
        "created_at": NOW,
        "updated_at": NOW,
    }
    return Promotion(**{**values, **overrides})


def test_the_lowest_price_wins_percent_against_amount():
    ten_percent, two_thousand_off = offer(percent=10), offer(amount=2_000)
    # 10% of 10 000 is 1 000 off: the 2 000 off wins.
    won = best_price(10_000, [ten_percent, two_thousand_off])
    assert won is not None and (won.price, won.offer) == (8_000, two_thousand_off)
    # 10% of 50 000 is 5 000 off: the percent wins.
    won = best_price(50_000, [ten_percent, two_thousand_off])
    assert won is not None and (won.price, won.offer) == (45_000, ten_percent)


def test_offers_never_stack():
    won = best_price(10_000, [offer(percent=50), offer(percent=50), offer(amount=1)])
    assert won is not None and won.price == 5_000


def test_a_percent_rounds_down_to_the_tiyn_in_the_customers_favour():
    won = best_price(999, [offer(percent=10)])
    assert won is not None and won.price == 899  # 899.1


def test_a_price_never_falls_below_one_tiyn():
    won = best_price(500, [offer(amount=10_000)])
    assert won is not None and won.price == 1
    won = best_price(1, [offer(percent=99)])
    assert won is None  # nothing to take off: the product shows its own price
    assert best_price(0, [offer(amount=5)]) is None


def test_a_tie_goes_to_the_offer_that_ends_first():
    later, sooner = offer(percent=20, hours=9), offer(amount=2_000, hours=2)
    won = best_price(10_000, [later, sooner])
    assert won is not None and won.offer == sooner


def test_no_offer_no_promoted_price():
    assert best_price(10_000, []) is None


def test_status_follows_the_clock_and_the_stops():
    assert promotion(1, 2).public_status(NOW) == "scheduled"
    assert promotion(-1, 2).public_status(NOW) == "live"
    assert promotion(-2, -1).public_status(NOW) == "ended"
    assert promotion(0, 2).public_status(NOW) == "live"  # from its first instant
    assert promotion(-2, 0).public_status(NOW) == "ended"  # up to, not including, its end
    assert promotion(-1, 2, status="ended_early", stopped_at=NOW).public_status(NOW) == "ended"
    assert promotion(1, 2, status="cancelled", stopped_at=NOW).public_status(NOW) == "cancelled"


def patch(**fields: Any) -> PromotionPatch:
    return PromotionPatch.model_validate(fields)


def test_a_live_promotion_changes_only_its_name_and_end():
    live = promotion(-1, 2)
    renamed = apply_patch(live, patch(name="Новое имя", ends_at=NOW + timedelta(hours=5)), NOW)
    assert (renamed.name, renamed.ends_at) == ("Новое имя", NOW + timedelta(hours=5))
    for fields in (
        {"discount": {"percent": 50}},
        {"category": "misc"},
        {"product_ids": [str(uuid4())]},
        {"starts_at": NOW.isoformat()},
    ):
        with pytest.raises(PromotionConflict):
            apply_patch(live, patch(**fields), NOW)


def test_ending_early_and_cancelling():
    ended = apply_patch(promotion(-1, 2), patch(status="ended"), NOW)
    assert (ended.status, ended.stopped_at, ended.public_status(NOW)) == (
        "ended_early",
        NOW,
        "ended",
    )
    cancelled = apply_patch(promotion(1, 2), patch(status="cancelled"), NOW)
    assert cancelled.public_status(NOW) == "cancelled"
    with pytest.raises(PromotionConflict):
        apply_patch(promotion(1, 2), patch(status="ended"), NOW)  # not live: cancel it
    with pytest.raises(PromotionConflict):
        apply_patch(promotion(-1, 2), patch(status="cancelled"), NOW)  # live: end it
    with pytest.raises(PromotionConflict):
        apply_patch(ended, patch(name="Снова"), NOW)


def test_a_scheduled_promotion_changes_anything_but_stays_valid():
    scheduled = promotion(1, 2)
    moved = apply_patch(scheduled, patch(category="vitamins", discount={"percent": 30}), NOW)
    assert (moved.category, moved.product_ids, moved.discount) == (
        "vitamins",
        (),
        Discount(30, None),
    )
    with pytest.raises(ValueError, match="after"):
        apply_patch(scheduled, patch(ends_at=(NOW + timedelta(minutes=30)).isoformat()), NOW)
    with pytest.raises(ValueError, match="future"):
        apply_patch(promotion(-3, 2), patch(ends_at=(NOW - timedelta(hours=1)).isoformat()), NOW)


def body(**overrides: Any) -> dict[str, Any]:
    values: dict[str, Any] = {
        "name": "Неделя витаминов",
        "discount": {"percent": 15},
        "category": "vitamins",
        "starts_at": "2026-12-10T00:00:00+05:00",
        "ends_at": "2026-12-17T00:00:00+05:00",
    }
    return {**values, **overrides}


IDS = [str(uuid4()) for _ in range(201)]


@pytest.mark.parametrize(
    "fields",
    [
        {"ends_at": "2026-12-09T00:00:00+05:00"},
        {"ends_at": "2026-12-10T00:00:00+05:00"},
        {"ends_at": "2028-12-10T00:00:00+05:00"},
        {"starts_at": "2026-12-10T00:00:00"},
        {"discount": {"percent": 0}},
        {"discount": {"percent": 100}},
        {"discount": {"percent": True}},
        {"discount": {"percent": "10"}},
        {"discount": {"amount": 0, "currency": "KZT"}},
        {"discount": {"amount": 500, "currency": "USD"}},
        {"discount": {"amount": 500}},
        {"discount": {"percent": 10, "amount": 500, "currency": "KZT"}},
        {"discount": {}},
        {"product_ids": IDS[:1]},
        {"category": None},
        {"category": None, "product_ids": IDS},
        {"category": None, "product_ids": []},
        {"category": None, "product_ids": [IDS[0], IDS[0]]},
        {"category": None, "product_ids": ["not-an-id"]},
        {"name": "   "},
        {"name": "a\u202eb"},
        {"created_by": str(uuid4())},
    ],
)
def test_invalid_promotions_are_refused(fields: dict[str, Any]):
    with pytest.raises(ValidationError):
        PromotionIn.model_validate(body(**fields))


def test_a_valid_promotion_by_products_or_by_amount():
    by_products = PromotionIn.model_validate(
        body(category=None, product_ids=IDS[:200], discount={"amount": 50_000, "currency": "KZT"})
    )
    assert by_products.product_ids is not None and len(by_products.product_ids) == 200
    assert by_products.discount.amount == 50_000


@pytest.mark.parametrize(
    "fields",
    [
        {},
        {"name": None},
        {"status": "ended", "name": "x"},
        {"status": "live"},
        {"id": str(UUID(int=1))},
    ],
)
def test_invalid_patches_are_refused(fields: dict[str, Any]):
    with pytest.raises(ValidationError):
        PromotionPatch.model_validate(fields)
