"""Settings of the account pages, read from the environment (prefix ``ACCOUNT_``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class WebConfig(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ACCOUNT_", extra="ignore")

    # Secure cookies (and the __Host- prefix); browsers accept them on http://localhost too.
    # Turn off only for plain-HTTP tests with clients that do not treat localhost as secure.
    cookie_secure: bool = True
    # A session ends after this long without a request, and in any case after max_age_s.
    session_idle_s: int = Field(default=30 * 60, ge=60)
    session_max_age_s: int = Field(default=12 * 3600, ge=300)
