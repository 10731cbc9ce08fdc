"""Unsubscribe tokens: what they name comes back; forged, expired or foreign ones are refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from uuid import uuid4

import jwt
import pytest

from services.notifications.unsubscribe_links import (
    BadUnsubscribeToken,
    Unsubscribe,
    list_unsubscribe_headers,
    make_token,
    read_token,
    unsubscribe_url,
)

SECRET = "s" * 32


def test_a_token_names_the_customer_channel_and_campaign():
    target = Unsubscribe(customer_id=uuid4(), channel="sms", campaign_id=uuid4())
    assert read_token(SECRET, make_token(SECRET, target, days=30)) == target


@pytest.mark.parametrize(
    "token",
    [
        make_token("other" * 8, Unsubscribe(uuid4(), "email", None), days=30),
        make_token(
            SECRET,
            Unsubscribe(uuid4(), "email", None),
            days=1,
            now=datetime.now(UTC) - timedelta(days=2),
        ),
        jwt.encode({"sub": str(uuid4()), "ch": "email", "aud": "shop:access"}, SECRET, "HS256"),
        jwt.encode({"sub": "x", "ch": "email", "aud": "shop:unsubscribe"}, SECRET, "HS256"),
        jwt.encode({"sub": str(uuid4()), "ch": "fax", "aud": "shop:unsubscribe"}, SECRET, "HS256"),
        "not-a-token",
        "a" * 5000,
    ],
    ids=["forged", "expired", "other-audience", "bad-id", "bad-channel", "garbage", "huge"],
)
def test_bad_tokens_are_refused(token: str):
    with pytest.raises(BadUnsubscribeToken):
        read_token(SECRET, token)


def test_the_url_and_headers_follow_rfc_8058():
    url = unsubscribe_url("https://shop.kz/", "abc.def")
    assert url == "https://shop.kz/api/notifications/unsubscribe?token=abc.def"
    assert list_unsubscribe_headers(url) == {
        "List-Unsubscribe": "<https://shop.kz/api/notifications/unsubscribe?token=abc.def>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_no_token_without_a_secret():
    with pytest.raises(ValueError, match="UNSUBSCRIBE_SECRET"):
        make_token("", Unsubscribe(uuid4(), "email", None), days=1)
