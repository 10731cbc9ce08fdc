"""Pure parts: money in tenge, locales, which event asks for which notification."""

from __future__ import annotations

from uuid import uuid4

import pytest

from services.notifications.domain import format_tenge, pick_locale, request_for
from shared.contracts import CustomerRegistered, Money, OrderCancelled, PaymentSucceeded


@pytest.mark.parametrize(
    ("tiyn", "text"),
    [
        (1234550, "12 345,50 ₸"),
        (0, "0,00 ₸"),
        (5, "0,05 ₸"),
        (99900, "999,00 ₸"),
        (123456789012, "1 234 567 890,12 ₸"),
    ],
)
def test_format_tenge(tiyn: int, text: str) -> None:
    assert format_tenge(tiyn) == text


@pytest.mark.parametrize(
    ("given", "chosen"), [("ru", "ru"), ("kk", "kk"), ("en", "en"), ("de", "ru"), (None, "ru")]
)
def test_pick_locale(given: str | None, chosen: str) -> None:
    assert pick_locale(given) == chosen


def test_request_for_order_and_registration() -> None:
    customer_id = uuid4()
    cancelled = OrderCancelled(
        order_id=uuid4(),
        order_ref="A-7",
        customer_id=customer_id,
        status="cancelled",
        total=Money(amount=500),
    )
    request = request_for(cancelled)
    assert request is not None
    assert (request.kind, request.order_ref, request.total_tiyn) == ("order_cancelled", "A-7", 500)
    welcome = request_for(
        CustomerRegistered(
            customer_id=customer_id,
            locale="kk",
            policy_version="1",
            marketing_email=False,
            marketing_sms=False,
        )
    )
    assert welcome is not None
    assert (welcome.kind, welcome.customer_id, welcome.order_ref) == ("welcome", customer_id, None)


def test_request_for_refuses_unhandled_event() -> None:
    succeeded = PaymentSucceeded(
        payment_id=uuid4(),
        order_id=uuid4(),
        order_ref="A-8",
        status="succeeded",
        amount=Money(amount=1),
        customer_id=uuid4(),
    )
    with pytest.raises(ValueError, match="PaymentSucceeded"):
        request_for(succeeded)
