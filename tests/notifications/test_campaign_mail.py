"""A campaign's mail filled into its shape is the mail composed whole, byte for byte (the
same clock and id given to both), for every locale, with and without a name, for names and
addresses that exercise escaping, encoding and folding; and a shape never holds a
recipient's data."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from email import message_from_bytes
from email.base64mime import body_encode
from email.message import Message as EmailMessage
from typing import cast
from uuid import UUID, uuid4

import pytest

from services.notifications.campaign_channels import EmailSender, Message
from services.notifications.campaign_domain import PromotionFacts, Recipient
from services.notifications.campaign_mail import (
    MailShape,
    NoShape,
    ShapeCache,
    _base64,
    make_shape,
)
from services.notifications.config import Settings
from services.notifications.domain import Locale, OutgoingMail, build_email
from services.notifications.mailer import SmtpSessions
from services.notifications.rendering import Renderer

CAMPAIGN = UUID("7b0c6f1e-2f4e-4c55-9a57-0d2b5f1e4a01")
NOW = datetime(2026, 12, 3, 16, 30, 5, tzinfo=UTC)

NAMES: list[str | None] = [
    None,
    "",
    "Анна",
    "Ann",
    "Айгерім",
    "Zoë O'Brien",
    'Ann "Nan" Lee',
    "<script>alert('x')</script>",
    "Tom & Jerry <tj@example.kz>",
    "Мария-Александра Константинопольская-Преображенская Вторая",
    "   spaced   out   ",
    "Ünïcödé 🎉",
    "=?utf-8?q?not_a_word?=",
    "https://example.kz/phish",
    "back\\slash; comma, colon:",
]
ADDRESSES = [
    "anna@example.kz",
    "анна@пример.қаз",  # an internationalised (RFC 6531) local part and domain
    "ann@xn--e1afmkfd.xn--80ao21a",  # IDN as punycode
    "very.long.local.part.that.goes.on.and.on.and.on.and.on.and.on@example-shop-domain.kz",
    "ü@example.kz",
]
LOCALES: list[Locale] = ["ru", "kk", "en"]


def facts(name: str = "Зимняя аптечка", products: int = 3) -> PromotionFacts:
    start = datetime(2026, 12, 1, tzinfo=UTC)
    return PromotionFacts.model_validate(
        {
            "name": name,
            "discount": {"percent": 15},
            "starts_at": start,
            "ends_at": start + timedelta(days=7),
            "products": [
                {
                    "name": f"Товар {n} <b>&</b>",
                    "price": {"amount": 100_00 * (n + 1)},
                    "regular_price": {"amount": 150_00 * (n + 1)},
                }
                for n in range(products)
            ],
        }
    )


def sender(**overrides: object) -> EmailSender:
    values: dict[str, object] = {
        "database_url": "postgresql://unused/unused",
        "amqp_url": "amqp://unused/",
        "unsubscribe_secret": "s" * 32,
        "public_base_url": "https://shop.kz",
        **overrides,
    }
    settings = Settings(**values)  # type: ignore[arg-type]
    return EmailSender(settings, Renderer(), SmtpSessions(settings))


def message(first_name: str | None, to: str, locale: Locale, promo: PromotionFacts) -> Message:
    recipient = Recipient(uuid4(), uuid4(), locale, first_name, to)
    return Message(CAMPAIGN, "email", promo, recipient, uuid4())


def whole(email: EmailSender, msg: Message, link: str) -> OutgoingMail:
    """What the campaign sent before shapes: the mail composed from scratch."""
    rendered, headers = email.render(msg.facts, msg.recipient.locale)(
        msg.recipient.first_name, link
    )
    return build_email(
        mail_from=email.settings.mail_from,
        to=msg.recipient.contact,
        rendered=rendered,
        locale=msg.recipient.locale,
        notification_id=msg.notification_id,
        now=NOW,
        headers=headers,
    )


def filled(email: EmailSender, msg: Message, link: str) -> OutgoingMail:
    shape = email.shape(msg.facts, msg.recipient.locale, bool(msg.recipient.first_name))
    assert shape.fits(msg.recipient.first_name, link)
    return shape.fill(
        to=msg.recipient.contact,
        first_name=msg.recipient.first_name,
        link=link,
        notification_id=msg.notification_id,
        now=NOW,
    )


CASES = [
    (name, address, locale) for locale in LOCALES for name in NAMES for address in ADDRESSES[:2]
] + [("Анна", address, locale) for locale in LOCALES for address in ADDRESSES[2:]]


@pytest.mark.parametrize(("first_name", "to", "locale"), CASES)
def test_filled_mail_is_the_whole_mail(first_name: str | None, to: str, locale: Locale) -> None:
    email = sender()
    msg = message(first_name, to, locale, facts())
    link = email.unsubscribe_link(msg, NOW)
    made, shaped = whole(email, msg, link), filled(email, msg, link)
    assert (shaped.sender, shaped.recipient) == (made.sender, made.recipient)
    assert shaped.data == made.data
    assert email.compose(msg, NOW).data == made.data


@pytest.mark.parametrize(
    "promo",
    [
        facts(products=0),
        facts(products=5),
        facts(name="A promotion with a rather long name that will need folding in the subject"),
        facts(name='"Quotes" & <tags> in the name'),
        facts(name="Акция с очень длинным названием, которое не уместится в одну строку темы"),
    ],
)
@pytest.mark.parametrize("locale", LOCALES)
def test_filled_mail_for_other_promotions(promo: PromotionFacts, locale: Locale) -> None:
    email = sender()
    for first_name in ("Анна", None):
        msg = message(first_name, "anna@example.kz", locale, promo)
        link = email.unsubscribe_link(msg, NOW)
        assert filled(email, msg, link).data == whole(email, msg, link).data


@pytest.mark.parametrize("mail_from", ["no-reply@shop.kz", "Магазин «Аптека» <no-reply@shop.kz>"])
def test_filled_mail_for_other_senders(mail_from: str) -> None:
    email = sender(mail_from=mail_from, public_base_url="http://localhost:8080/")
    msg = message("Анна", "anna@example.kz", "kk", facts())
    link = email.unsubscribe_link(msg, NOW)
    assert filled(email, msg, link).data == whole(email, msg, link).data


@pytest.mark.parametrize(
    "now",
    [datetime(2027, 1, 2, 3, 4, 5, tzinfo=UTC), datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC)],
)
def test_filled_mail_at_other_times(now: datetime) -> None:
    email = sender()
    msg = message("Анна", "anna@example.kz", "ru", facts())
    shape = email.shape(msg.facts, "ru", True)
    link = email.unsubscribe_link(msg, now)
    made = build_email(
        mail_from=email.settings.mail_from,
        to=msg.recipient.contact,
        rendered=email.render(msg.facts, "ru")("Анна", link)[0],
        locale="ru",
        notification_id=msg.notification_id,
        now=now,
        headers=email.render(msg.facts, "ru")("Анна", link)[1],
    )
    got = shape.fill(
        to="anna@example.kz",
        first_name="Анна",
        link=link,
        notification_id=msg.notification_id,
        now=now,
    )
    assert got.data == made.data


def parts(data: bytes) -> tuple[EmailMessage, str, str]:
    parsed = message_from_bytes(data)
    text, html = (
        cast(bytes, part.get_payload(decode=True)).decode()
        for part in cast(list[EmailMessage], parsed.get_payload())
    )
    return parsed, text, html


def test_name_escaped_in_html_and_plain_in_text() -> None:
    email = sender()
    msg = message("<script>alert('x')</script> & Co", "anna@example.kz", "en", facts())
    parsed, text, html = parts(email.compose(msg, NOW).data)
    assert "Hello, <script>alert('x')</script> & Co!" in text
    assert "Hello, &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; Co!" in html
    assert "<script>" not in html
    link = email.unsubscribe_link(msg, NOW)
    assert "".join(parsed["List-Unsubscribe"].split()) == f"<{link}>"
    assert f'<a href="{link}">{link}</a>' in html and link in text


def test_names_that_would_change_the_layout_are_composed_whole() -> None:
    email = sender()
    for first_name in ("Ann\n\nhttps://evil.example", "Ann\r\nBcc: x@y", "Ann\u2028Lee"):
        msg = message(first_name, "anna@example.kz", "ru", facts())
        link = email.unsubscribe_link(msg, NOW)
        shape = email.shape(msg.facts, "ru", True)
        assert not shape.fits(first_name, link)
        assert email.compose(msg, NOW).data == whole(email, msg, link).data


def test_shape_holds_no_recipient_data() -> None:
    email = sender()
    msg = message("Анна", "anna@example.kz", "ru", facts())
    email.compose(msg)
    shape = email.shapes.get((CAMPAIGN, "ru", True), lambda: pytest.fail("not cached"))
    assert shape is not None
    held = repr(shape).encode() + b"".join(p for p in shape.data if isinstance(p, bytes))
    for value in ("Анна", "anna@example.kz", str(msg.notification_id), msg.notification_id.hex):
        assert value.encode() not in held and value not in repr(shape)
    assert str(msg.recipient.customer_id) not in repr(shape)


def test_a_promotion_holding_a_placeholder_gets_no_shape() -> None:
    email = sender()
    promo = facts(name="Odd \ue000 name")
    with pytest.raises(NoShape):
        email.shape(promo, "en", True)
    msg = message("Анна", "anna@example.kz", "en", promo)
    link = email.unsubscribe_link(msg, NOW)
    assert email.compose(msg, NOW).data == whole(email, msg, link).data


def test_shape_cache_keeps_the_latest() -> None:
    cache = ShapeCache(size=2)
    made: list[tuple[UUID, Locale, bool]] = []
    email = sender()

    def maker(key: tuple[UUID, Locale, bool]) -> Callable[[], MailShape]:
        def make() -> MailShape:
            made.append(key)
            return make_shape(
                mail_from=email.settings.mail_from,
                locale=key[1],
                has_name=key[2],
                link_prefix="https://shop.kz/u?token=",
                render=email.render(facts(), key[1]),
            )

        return make

    keys: list[tuple[UUID, Locale, bool]] = [(CAMPAIGN, "ru", True), (CAMPAIGN, "kk", False)]
    for key in [*keys, *keys]:
        assert cache.get(key, maker(key)) is not None
    assert made == keys
    third: tuple[UUID, Locale, bool] = (uuid4(), "en", True)
    cache.get(third, maker(third))
    cache.get(keys[0], maker(keys[0]))  # the oldest went
    assert made == [*keys, third, keys[0]]


def test_base64_lines_as_the_email_package_writes_them() -> None:
    for length in range(0, 400):
        text = ("ж1" * length)[:length]
        assert _base64(text) == body_encode(text.encode(), eol="\r\n").encode()


def test_links_of_another_form_are_composed_whole() -> None:
    email = sender()
    shape = email.shape(facts(), "en", True)
    assert shape.fits("Ann", shape.link_prefix + "abc.DEF-_9")
    for link in (shape.link_prefix + "a b", shape.link_prefix + "a,b", "https://other.kz/?t=a"):
        assert not shape.fits("Ann", link)
    short = shape.link_prefix + "t0ken"
    msg = message("Ann", "ann@example.kz", "en", facts())
    mail = shape.fill(
        to="ann@example.kz",
        first_name="Ann",
        link=short,
        notification_id=msg.notification_id,
        now=NOW,
    )
    assert mail.data == whole(email, msg, short).data
