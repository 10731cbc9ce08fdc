"""Retries per channel over the consumer's tiers (pure), and the settings that make them."""

from __future__ import annotations

import pytest

from services.notifications.config import Settings
from services.notifications.retry_policy import RetryPolicy

TIERS = (1_000, 10_000, 60_000)


def test_each_channel_uses_its_share_of_the_tiers() -> None:
    policy = RetryPolicy(TIERS, {"email": 3, "sms": 1})
    assert policy.delays_ms("email") == TIERS
    assert policy.delays_ms("sms") == (1_000,)
    assert [policy.is_last("email", a) for a in range(4)] == [False, False, False, True]
    assert [policy.is_last("sms", a) for a in range(3)] == [False, True, True]


def test_a_channel_that_gives_up_early_parks_while_the_queue_would_retry() -> None:
    policy = RetryPolicy(TIERS, {"email": 3, "sms": 0})
    assert policy.park_early("sms", 0)
    assert not policy.park_early("email", 2)
    assert not policy.park_early("email", 3)  # the consumer parks it anyway: no tier is left


def test_more_retries_than_tiers_is_refused() -> None:
    with pytest.raises(ValueError):
        RetryPolicy(TIERS, {"sms": 4})


def test_the_defaults_email_every_tier_sms_two() -> None:
    policy = Settings(database_url="postgresql://x/y").retry_policy()
    assert policy.delays_ms("email") == TIERS
    assert policy.delays_ms("sms") == (1_000, 10_000)


def test_settings_cap_a_channel_at_the_tiers_there_are() -> None:
    settings = Settings(
        database_url="postgresql://x/y",
        retry_delays_ms=(50,),
        sms_send_retries=2,
        email_send_retries=0,
    )
    policy = settings.retry_policy()
    assert (policy.delays_ms("sms"), policy.delays_ms("email")) == ((50,), ())
