"""Settings of the notifications service (environment variables, upper-case names)."""

from __future__ import annotations

from pydantic import Field, SecretStr

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
    # Signs the unsubscribe links of marketing messages (unsubscribe_links.py); required
    # before a campaign can send (make up writes one to .local/).
    unsubscribe_secret: SecretStr = SecretStr("")
    # How long an unsubscribe link keeps working (RFC 8058 asks for a long time).
    unsubscribe_link_days: float = Field(default=365.0, gt=0)
