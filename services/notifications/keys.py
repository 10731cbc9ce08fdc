"""Every app key of the notifications service, and nothing else."""

from __future__ import annotations

from aiohttp import web

from services.notifications.campaign_runner import CampaignRunner
from services.notifications.campaigns import Campaigns
from services.notifications.config import Settings
from services.notifications.notifier import Notifier
from services.notifications.unsubscribe_pages import UnsubscribePages

SETTINGS = web.AppKey("settings", Settings)
NOTIFIER = web.AppKey("notifier", Notifier)
UNSUBSCRIBE_PAGES = web.AppKey("unsubscribe_pages", UnsubscribePages)
CAMPAIGNS = web.AppKey("campaigns", Campaigns)
CAMPAIGN_RUNNER = web.AppKey("campaign_runner", CampaignRunner)
