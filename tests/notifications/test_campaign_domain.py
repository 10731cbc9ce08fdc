"""The pure part of campaigns: where the cursor goes, what an SMS says, the message's values."""

from __future__ import annotations

from datetime import UTC, datetime
from uuid import UUID

import pytest

from services.notifications.campaign_domain import (
    Discount,
    Money,
    ProductFacts,
    PromotionFacts,
    cursor_after,
    message_context,
    sms_text,
)

IDS = [UUID(int=n) for n in range(1, 6)]
FACTS = PromotionFacts(
    name="Зимняя аптечка",
    discount=Discount(percent=15),
    starts_at=datetime(2026, 12, 1, 4, 0, tzinfo=UTC),
    ends_at=datetime(2026, 12, 31, 20, 0, tzinfo=UTC),  # 1 January 01:00 in Almaty
    products=[
        ProductFacts(
            name="Витамин C", price=Money(amount=127500), regular_price=Money(amount=150000)
        ),
        ProductFacts(
            name="Термометр", price=Money(amount=250000), regular_price=Money(amount=250000)
        ),
    ],
)


@pytest.mark.parametrize(
    ("done", "expected"),
    [
        (set(IDS), IDS[-1]),
        (set(), None),
        ({IDS[0], IDS[1], IDS[3]}, IDS[1]),  # the third not done: the next batch starts there
        ({IDS[1], IDS[2]}, None),
    ],
)
def test_the_cursor_moves_past_the_done_prefix_only(done: set[UUID], expected: UUID | None) -> None:
    assert cursor_after(None, IDS, done) == expected


def test_the_cursor_stays_when_nothing_of_the_batch_is_done() -> None:
    before = UUID(int=0)
    assert cursor_after(before, IDS, set()) == before


@pytest.mark.parametrize(
    ("locale", "words"),
    [("ru", "скидка 15% до 01.01.2027. Отказ: STOP на 7575"),
     ("kk", "01.01.2027 дейін 15% жеңілдік. Бас тарту: STOP 7575"),
     ("en", "15% off until 01.01.2027. Opt out: STOP to 7575")],
)  # fmt: skip
def test_the_sms_names_the_offer_its_local_end_and_the_stop(locale: str, words: str) -> None:
    text = sms_text(FACTS, locale, "7575")  # type: ignore[arg-type]
    assert text == f"Зимняя аптечка: {words}"


def test_a_long_name_is_cut_so_the_stop_instruction_stays() -> None:
    facts = FACTS.model_copy(update={"name": "Очень длинное название акции " * 5})
    text = sms_text(facts, "ru", "7575")
    assert text.endswith("STOP на 7575") and len(text) <= 120


def test_an_amount_off_and_only_real_markdowns_are_shown() -> None:
    facts = FACTS.model_copy(update={"discount": Discount(amount=Money(amount=50000))})
    context = message_context(facts, None, "https://shop.kz", "https://shop.kz/u?t=x")
    assert context["discount"] == "500,00 ₸"
    assert context["ends_on"] == "01.01.2027"
    assert context["products"] == [
        {"name": "Витамин C", "price": "1 275,00 ₸", "regular_price": "1 500,00 ₸"},
        {"name": "Термометр", "price": "2 500,00 ₸", "regular_price": None},
    ]
