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
    # Anonymous carts untouched for this long are deleted (retention, and `purge-carts`).
    cart_retention_s: int = Field(default=30 * 24 * 3600, ge=60)

    # --- card payments (the bank adapter on shop.payments, routing key bank.<code>) ---
    bank_code: str = Field(default="sandbox", pattern=r"^[a-z0-9_-]+$")
    # HMAC secret per bank for its signed payment callbacks (JSON in BANK_SECRETS).
    bank_secrets: dict[str, SecretStr] = Field(default_factory=dict)
    # Where the bank serves its hosted payment page: payment_url = {bank_public_url}/pay/{id}.
    bank_public_url: str = "http://localhost:8203"
    # Where the bank sends the customer back after paying ({order_id} and {order_ref} filled).
    payment_return_url: str = "http://localhost:8080/orders/{order_id}"
    # An order not paid within this time is cancelled and its stock returned.
    payment_timeout_s: int = Field(default=900, ge=1)

    # --- the periodic maintenance task of the app ---
    maintenance_interval_s: float = Field(default=30.0, gt=0)
    # A dispatched order without a courier confirmation for this long is raised for support.
    courier_confirm_timeout_s: int = Field(default=48 * 3600, ge=1)
    # Carts without any item untouched for this long are deleted (anonymous ones or not).
    empty_cart_retention_s: int = Field(default=24 * 3600, ge=60)

    # --- retention (services/orders/retention.py; the shared periods in ServiceSettings) ---
    # Checkout velocity counters and attempt ids: a counter counts for its minute only.
    velocity_retention_s: int = Field(default=300, ge=60)
    # Checkout statistics keep the client network (/24, /48) this long for fraud review;
    # then the network is replaced by 0.0.0.0/0 and the day's counts per city merge.
    network_stats_detail_days: float = Field(default=30.0, ge=1)
    # A checkout's Idempotency-Key (and its order id) is kept this long for retries.
    checkout_request_retention_days: float = Field(default=7.0, ge=1)
    # An automated decision (a velocity refusal) is kept this long for an objection to it and
    # the review (Law 94-V art. 19-1: 3 working days once objected).
    decision_retention_days: float = Field(default=90.0, ge=7)

    # --- velocity limits of checkouts (policy 5.6); 0 turns a limit off ---
    checkout_limit_per_account_per_min: int = Field(default=5, ge=0)
    checkout_limit_per_network_per_min: int = Field(default=60, ge=0)
