"""Settings of the notifications service (environment variables, upper-case names)."""

from __future__ import annotations

from datetime import time
from zoneinfo import ZoneInfo

from pydantic import Field, SecretStr, field_validator

from services.notifications.domain import Channel
from services.notifications.retry_policy import RetryPolicy
from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    http_port: int = Field(default=8104, ge=0, le=65535)
    # Internal base URL of the customers service, which releases the contact at send time.
    customers_url: str = "http://127.0.0.1:8103"
    smtp_host: str = "127.0.0.1"
    smtp_port: int = Field(default=8025, ge=1, le=65535)
    smtp_starttls: bool = False
    smtp_timeout_s: float = Field(default=10.0, gt=0)
    # Open sessions kept for reuse, and how long one may sit idle (well under the five
    # minutes RFC 5321 asks servers to wait before they drop a quiet client).
    smtp_idle_sessions: int = Field(default=8, ge=0)
    smtp_idle_timeout_s: float = Field(default=30.0, ge=0)
    mail_from: str = "Shop <no-reply@shop.kz>"
    public_base_url: str = "http://localhost:8080"
    # The delivery log (customer id, kind, status, release id) is deleted after this long
    # (services/notifications/retention.py).
    delivery_log_retention_days: float = Field(default=365.0, ge=1)
    # The new-policy notice (policy_notices.py): customers per contact batch, and how often
    # the runner looks for a notice to send when it has none.
    policy_notice_batch: int = Field(default=200, ge=1, le=1000)
    policy_notice_interval_s: float = Field(default=5.0, gt=0)
    # Signs the unsubscribe links of marketing messages (unsubscribe_links.py); required
    # before a campaign can send (make up writes one to .local/).
    unsubscribe_secret: SecretStr = SecretStr("")
    # How long an unsubscribe link keeps working (RFC 8058 asks for a long time).
    unsubscribe_link_days: float = Field(default=365.0, gt=0)
    # At most how many of the consumer's retry tiers (RETRY_DELAYS_MS) a transactional send
    # uses per channel before it is logged failed and parked (retry_policy.py); None: all.
    email_send_retries: int | None = Field(default=None, ge=0)
    sms_send_retries: int | None = Field(default=2, ge=0)
    # The local copy of a suppression (suppression.py): customers holds the suppression
    # itself and has it within minutes; the copy covers campaigns running meanwhile.
    suppression_keep_days: float = Field(default=30.0, ge=1)
    # The SMS provider (services/notifications/sms.py): its API, the secret both sides sign
    # with (requests, delivery reports, inbound texts), the sender name texts come from.
    sms_provider_url: str = "http://127.0.0.1:8204"
    sms_provider_secret: SecretStr = SecretStr("")
    sms_sender: str = "Shop"
    sms_timeout_s: float = Field(default=10.0, gt=0)
    # No marketing SMS between these local times (quiet_hours.py); start == end: none.
    sms_quiet_start: time = time(21, 0)
    sms_quiet_end: time = time(9, 0)
    sms_timezone: str = "Asia/Almaty"

    # Internal base URL of the catalog, which describes a promotion when a campaign is made.
    catalog_url: str = "http://127.0.0.1:8101"
    # Campaigns (campaign_runner.py): how often a replica looks for a due campaign, how long
    # its lease on one lasts without renewal (a replica that died frees it after this), the
    # size of a contact batch, the messages sent at once (SMTP sessions or SMS requests), how
    # often a running campaign's status is read (a pause stops it within about this), and
    # how long a graceful shutdown waits for the messages in flight.
    campaign_poll_s: float = Field(default=1.0, gt=0)
    campaign_lease_s: float = Field(default=30.0, gt=0)
    campaign_batch_size: int = Field(default=200, ge=1, le=1000)
    campaign_concurrency: int = Field(default=4, ge=1, le=64)
    campaign_status_poll_s: float = Field(default=0.2, gt=0)
    campaign_send_attempts: int = Field(default=3, ge=1)
    campaign_retry_s: float = Field(default=30.0, gt=0)
    campaign_stop_grace_s: float = Field(default=10.0, ge=0)
    # The number a customer texts STOP to (quoted in every marketing SMS).
    sms_stop_number: str = "7575"

    @field_validator("sms_timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        ZoneInfo(value)  # raises on an unknown zone, at start-up rather than at the first text
        return value

    def retry_policy(self) -> RetryPolicy:
        tiers = self.retry_delays_ms
        asked: dict[Channel, int | None] = {
            "email": self.email_send_retries,
            "sms": self.sms_send_retries,
        }
        retries: dict[Channel, int] = {
            channel: len(tiers) if count is None else min(count, len(tiers))
            for channel, count in asked.items()
        }
        return RetryPolicy(tiers, retries)
