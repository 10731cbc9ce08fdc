"""The notifications app: the event consumer, the outbox relay (erasure confirmations,
unsubscribes, suppressions), the internal export route, the unsubscribe link's pages, the SMS
provider's callbacks, retention, the new-policy notice's runner, and campaigns (the
marketer's routes and the runner in the background)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable

from aiohttp import web

from services.notifications import messages
from services.notifications.audiences import Audiences
from services.notifications.campaign_channels import EmailSender, Sender, SmsSender
from services.notifications.campaign_handlers import campaign_errors
from services.notifications.campaign_runner import CampaignRunner
from services.notifications.campaigns import Campaigns
from services.notifications.config import Settings
from services.notifications.keys import (
    CAMPAIGN_RUNNER,
    CAMPAIGNS,
    NOTIFIER,
    SETTINGS,
    UNSUBSCRIBE_PAGES,
)
from services.notifications.mailer import SmtpSessions
from services.notifications.notifier import Notifier
from services.notifications.policy_notices import policy_notices_ctx
from services.notifications.rendering import Renderer
from services.notifications.retention import notifications_retention_ctx
from services.notifications.routes import OPERATIONS
from services.notifications.sms import SmsClient
from services.notifications.unsubscribe_pages import UnsubscribePages
from shared.background import graceful_task_ctx
from shared.db import PG_POOL
from shared.openapi import add_description_routes, add_operations
from shared.service import HTTP_CLIENT, add_consumer, add_outbox_relay, create_service_app


def notifier_ctx(
    settings: Settings, renderer: Renderer
) -> Callable[[web.Application], AsyncIterator[None]]:
    """Builds the notifier once the pool and the HTTP client of the app exist."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        smtp = SmtpSessions(settings)
        app[NOTIFIER] = Notifier(settings, renderer, app[HTTP_CLIENT], app[PG_POOL], smtp)
        yield
        await smtp.close()

    return ctx


def campaigns_ctx(
    settings: Settings, renderer: Renderer
) -> Callable[[web.Application], AsyncIterator[None]]:
    """The marketer's use cases and the runner, with SMTP sessions of their own (a campaign
    never holds the sessions the transactional mail needs)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        http, pool = app[HTTP_CLIENT], app[PG_POOL]
        token = settings.internal_token.get_secret_value()
        smtp = SmtpSessions(settings)
        sms = SmsClient(
            http,
            settings.sms_provider_url,
            settings.sms_provider_secret.get_secret_value(),
            settings.sms_sender,
            timeout_s=settings.sms_timeout_s,
        )
        senders: dict[str, Sender] = {
            "email": EmailSender(settings, renderer, smtp),
            "sms": SmsSender(settings, sms),
        }
        due = asyncio.Event()
        app[CAMPAIGNS] = Campaigns(settings, pool, http, due)
        app[CAMPAIGN_RUNNER] = CampaignRunner(
            settings, pool, Audiences(http, settings.customers_url, token), senders, due
        )
        yield
        await smtp.close()

    return ctx


def create_app(settings: Settings) -> web.Application:
    app = create_service_app(settings)
    app[SETTINGS] = settings
    app[UNSUBSCRIBE_PAGES] = UnsubscribePages()
    app.middlewares.append(campaign_errors)
    renderer = Renderer()
    # After the pool and the HTTP client (create_service_app), before the consumer.
    app.cleanup_ctx.append(notifier_ctx(settings, renderer))
    add_outbox_relay(app, settings)
    add_consumer(app, settings, messages.QUEUE, messages.event_handlers(app))
    app.cleanup_ctx.append(notifications_retention_ctx(settings))
    app.cleanup_ctx.append(policy_notices_ctx(settings.policy_notice_interval_s))
    app.cleanup_ctx.append(campaigns_ctx(settings, renderer))
    # Stopped first at shutdown: the messages in flight finish and are recorded.
    app.cleanup_ctx.append(
        graceful_task_ctx(
            "campaign-runner",
            lambda a, stopping: a[CAMPAIGN_RUNNER].run(stopping),
            settings.campaign_stop_grace_s,
        )
    )
    add_description_routes(app.router, "notifications", "Notifications", OPERATIONS)
    add_operations(app.router, OPERATIONS)
    return app
