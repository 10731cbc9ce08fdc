"""Service settings, read from environment variables and validated once at start-up."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, IPvAnyNetwork, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from shared.network import LOOPBACK


class ServiceSettings(BaseSettings):
    """What every service needs; each service subclasses it with its own fields.

    Values come from the environment (``DATABASE_URL``, ``AMQP_URL``, ...) when a service
    starts; tests build the object directly with keyword arguments.
    """

    model_config = SettingsConfigDict(env_prefix="", extra="ignore", frozen=True)

    database_url: str
    # One URL, or the nodes of one cluster comma-separated (shared.messaging.nodes).
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    http_host: str = "127.0.0.1"
    http_port: int = Field(default=8000, ge=0, le=65535)
    log_level: str = "INFO"
    # The gateway logs every public request (without query strings or addresses); a service's
    # own access log costs a sixth of its CPU under load, so it is off unless asked for.
    access_log: bool = False
    # PEM text of the Ed25519 key that verifies access tokens (published by customers).
    jwt_public_key: str = ""
    jwt_public_key_file: Path | None = None
    # Shared secret that internal callers present on /internal/ routes (never exposed by nginx).
    internal_token: SecretStr = SecretStr("")
    # Delays of the retry tiers of every consumer, then the dead queue.
    retry_delays_ms: tuple[int, ...] = (1_000, 10_000, 60_000)
    # A message redelivered this many times (e.g. it crashes its consumer) is dead-lettered.
    delivery_limit: int = Field(default=10, ge=1)
    outbox_retention_s: int = Field(default=7 * 24 * 3600, ge=0)
    # Retention (shared.retention): how often every rule runs, and the periods of what every
    # service holds. A handled message's inbox id guards against a redelivery (minutes; a
    # replayed dead message was never handled), so 30 days is far more than enough; a parked
    # message stays for an operator to look at and replay for 14 days, then is dropped; the
    # run records (counts only) are the proof that retention ran, kept 3 years.
    retention_interval_s: float = Field(default=3600.0, gt=0)
    inbox_retention_days: float = Field(default=30.0, ge=1)
    dead_queue_retention_days: float = Field(default=14.0, ge=1)
    retention_record_days: float = Field(default=3 * 365.0, ge=30)
    max_body_bytes: int = Field(default=64 * 1024, ge=1024)
    # Peers whose X-Forwarded-For is believed (the gateway; JSON list of CIDRs in the env).
    trusted_proxies: tuple[IPvAnyNetwork, ...] = LOOPBACK
    # Traces (shared.telemetry): off unless "otlp"; the standard OTEL_* variables name the
    # collector (OTEL_EXPORTER_OTLP_ENDPOINT), its headers and the batching.
    otel_traces_exporter: Literal["none", "otlp"] = "none"
    otel_exporter_otlp_protocol: Literal["http/protobuf", "grpc"] = "http/protobuf"

    @field_validator("database_url", "amqp_url")
    @classmethod
    def _not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("must not be blank")
        return value

    def public_key_pem(self) -> str:
        if self.jwt_public_key:
            return self.jwt_public_key
        if self.jwt_public_key_file:
            return self.jwt_public_key_file.read_text()
        raise ValueError("no JWT public key configured (JWT_PUBLIC_KEY or JWT_PUBLIC_KEY_FILE)")
