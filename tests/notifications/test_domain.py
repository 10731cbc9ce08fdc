"""Pure parts: money in tenge, locales, which event asks for which notification."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes
from email.policy import compat32
from uuid import uuid4

import pytest

from services.notifications.domain import (
    _WIRE,
    RenderedMail,
    build_email,
    format_tenge,
    pick_locale,
    request_for,
)
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


@pytest.mark.parametrize(
    "to", ["anna@example.kz", "Анна.Ким@пример.қаз", "a-very-long-local-part-" * 3 + "@example.kz"]
)
def test_mail_on_the_wire_is_what_compat32_writes(to: str) -> None:
    """The short-header shortcut of the wire policy changes no byte of a mail: each header
    (short, long, encoded, raw UTF-8, with odd whitespace) and both parts as compat32 has it."""
    rendered = RenderedMail(
        subject="Ваш заказ A-7 отправлен: трек-номер и сроки доставки по Казахстану",
        text="Здравствуйте, Анна!\nЗаказ A-7 в пути.\n",
        html="<p>Здравствуйте, Анна!</p>",
    )
    mail = build_email(
        mail_from="Shop <no-reply@shop.kz>",
        to=to,
        rendered=rendered,
        locale="ru",
        notification_id=uuid4(),
        now=datetime(2026, 12, 3, 10, 0, tzinfo=UTC),
    )
    message = message_from_bytes(mail.data, policy=compat32)
    for name, value in (
        ("X-Odd", "two  spaces"),
        ("X-Edge", " leading"),
        ("X-Long", "<https://shop.kz/unsubscribe?t=" + "x" * 120 + ">"),
        ("X-Fits", "a" * (78 - len("X-Fits: "))),
        ("X-Over", "a" * (79 - len("X-Over: "))),
    ):
        message[name] = value
    wire = compat32.clone(linesep="\r\n", cte_type="8bit")
    assert message.as_bytes(policy=_WIRE) == message.as_bytes(policy=wire)
