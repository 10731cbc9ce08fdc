"""Settings of the orders service (environment variables are the upper-case names)."""

from __future__ import annotations

from pydantic import Field, SecretStr

from shared.settings import ServiceSettings


class Settings(ServiceSettings):
    # Internal base URL of the catalog service (prices and names are looked up there).
    catalog_url: str = "http://127.0.0.1:8101"
    # Couriers a customer may choose at checkout; each needs a callback secret.
    couriers: tuple[str, ...] = ("sandbox",)
    # HMAC secret per courier for its signed status callbacks (JSON in COURIER_SECRETS).
    courier_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    callback_max_age_s: int = Field(default=300, ge=1)
    # The cart cookie is Secure unless turned off (plain-HTTP development only).
    cart_cookie_secure: bool = True
    cart_cookie_max_age_s: int = Field(default=30 * 24 * 3600, ge=60)
    # Anonymous carts untouched for this long are deleted by `purge-carts`.
    cart_retention_s: int = Field(default=30 * 24 * 3600, ge=60)
