"""The customers service's aiohttp app: routes, the dispatch consumer, the sealed outbox relay."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from aiohttp import web
from argon2 import PasswordHasher
from cryptography.hazmat.primitives import serialization

from shared.auth import TokenIssuer
from shared.http import READINESS_CHECKS
from shared.metrics import METRICS
from shared.service import (
    add_consumer,
    add_outbox_relay,
    courier_queues_ctx,
    create_service_app,
)

from . import erasure, messages, transfer_notices
from .accounts import Accounts
from .audit import audit_chainer_ctx
from .background import chore_ctx
from .config import KeyConfigError, Settings
from .crypto import Vault
from .domain import Operator, RecipientCountries, Throttling, ed25519_jwk
from .handlers import add_routes
from .handlers.errors import domain_errors
from .keys import ACCOUNTS, ISSUER, JWKS, KEYSTORE, SETTINGS
from .keystore import KeyStore, keystore_ctx, orphan_sweep_ctx
from .personal_data import CountReleases, PdGate
from .retention import customers_retention_ctx
from .web.app import add_account_pages


def _raw_public(pem: str) -> bytes:
    key = serialization.load_pem_public_key(pem.encode())
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def public_jwk(settings: Settings) -> dict[str, object]:
    """The JWKS of the signing key; a configured verification key must be its public half."""
    raw = _raw_public(settings.signing_public_key_pem())
    if _raw_public(settings.public_key_pem()) != raw:
        raise KeyConfigError("JWT_PUBLIC_KEY does not match JWT_PRIVATE_KEY")
    return {"keys": [ed25519_jwk(raw)]}


def build_accounts(settings: Settings, count_releases: CountReleases | None = None) -> Accounts:
    previous = settings.previous_master_key_bytes()
    vault = Vault(
        settings.master_key_bytes(),
        settings.blind_index_key_bytes(),
        (previous,) if previous else (),
    )
    operator = Operator(name=settings.operator_name, bin=settings.operator_bin)
    hasher = PasswordHasher(
        time_cost=settings.argon2_time_cost, memory_cost=settings.argon2_memory_kib
    )
    throttling = Throttling(
        free_failures_account=settings.login_free_failures_account,
        free_failures_network=settings.login_free_failures_network,
        max_delay_s=settings.login_max_delay_s,
        forget_after_s=settings.login_forget_after_s,
    )
    return Accounts(
        PdGate(
            vault,
            KeyStore(settings.keystore_dsn(), settings.keystore_pool_size),
            recipient_countries(settings),
            transfer_notices.notice_if_unnamed,
            count_releases,
        ),
        operator,
        hasher,
        throttling,
        access_ttl_s=settings.access_token_ttl_s,
    )


def recipient_countries(settings: Settings) -> RecipientCountries:
    """Where the recipients of releases are, as configured (Law 94-V art. 16)."""
    return RecipientCountries(
        couriers=settings.courier_countries,
        banks=settings.bank_countries,
        email=settings.mail_provider_country,
        sms=settings.sms_provider_country,
        staff=settings.support_country,
    )


async def keystore_ready(app: web.Application) -> None:
    """A readiness check (``/readyz``): without the key store no personal data opens."""
    await asyncio.wait_for(app[KEYSTORE].pool.fetchval("SELECT 1"), 2)


def create_app(settings: Settings) -> web.Application:
    """Build the app; missing or malformed keys, or a PD store outside KZ, refuse to start."""
    if settings.pd_store_region != "KZ":
        raise KeyConfigError("the personal-data store must be declared in Kazakhstan")
    issuer = TokenIssuer(settings.private_key_pem(), ttl_s=settings.access_token_ttl_s)
    app = create_service_app(settings)
    accounts = build_accounts(settings, app[METRICS].count_release)
    app.middlewares.append(domain_errors)
    app[SETTINGS] = settings
    app[ACCOUNTS] = accounts
    app[ISSUER] = issuer
    app[JWKS] = public_jwk(settings)
    app[KEYSTORE] = accounts.gate.keys
    cipher = accounts.vault.outbox_cipher
    app.cleanup_ctx.append(keystore_ctx(app[KEYSTORE]))
    app[READINESS_CHECKS].append(("keystore", keystore_ready))
    orphan_age = timedelta(seconds=settings.keystore_orphan_after_s)
    app.cleanup_ctx.append(
        orphan_sweep_ctx(app[KEYSTORE], orphan_age, settings.keystore_orphan_sweep_s)
    )
    app.cleanup_ctx.append(courier_queues_ctx(settings.couriers))
    app.cleanup_ctx.append(audit_chainer_ctx)
    app.cleanup_ctx.append(customers_retention_ctx(settings))
    app.cleanup_ctx.append(
        chore_ctx("erasure-check", erasure.chore_for(app), settings.erasure_chore_interval_s)
    )
    add_outbox_relay(app, settings, cipher=cipher)
    # Revocations are recorded by the revoking transaction here (access.py), not consumed.
    add_consumer(
        app, settings, messages.QUEUE, messages.event_handlers(app), record_revocations=False
    )
    add_routes(app)
    add_account_pages(app)
    return app
