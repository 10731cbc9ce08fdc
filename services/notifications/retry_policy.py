"""How often a transactional send is tried, per channel: pure.

The consumer retries a failed message through its queue's tiers (``RETRY_DELAYS_MS``, 1 s,
10 s, 60 s by default: one broker queue per delay) and parks it in the dead queue after the
last. The tiers are the queue's, shared by every message on it, so a channel's policy is how
many of them it uses: ``EMAIL_SEND_RETRIES`` (default every tier: a mail late by a minute is
still worth having) and ``SMS_SEND_RETRIES`` (default 2, i.e. 1 s and 10 s: a text about an
order that comes much later is noise, and the mail says the same). When a channel's retries
are used up, the delivery is logged ``failed`` and the message parked at once, where an
operator can replay it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from services.notifications.domain import Channel


@dataclass(frozen=True)
class RetryPolicy:
    tiers_ms: tuple[int, ...]
    retries: Mapping[Channel, int]

    def __post_init__(self) -> None:
        for channel, count in self.retries.items():
            if not 0 <= count <= len(self.tiers_ms):
                raise ValueError(
                    f"{channel}: {count} retries, but the queue has {len(self.tiers_ms)} tiers"
                )

    def delays_ms(self, channel: Channel) -> tuple[int, ...]:
        """The waits between a channel's tries, in order."""
        return self.tiers_ms[: self.retries.get(channel, len(self.tiers_ms))]

    def is_last(self, channel: Channel, attempt: int) -> bool:
        """Is try ``attempt`` (0 for the first) the channel's last?"""
        return attempt >= len(self.delays_ms(channel))

    def park_early(self, channel: Channel, attempt: int) -> bool:
        """The channel gives up while the queue would still retry: park it now."""
        return self.is_last(channel, attempt) and attempt < len(self.tiers_ms)
