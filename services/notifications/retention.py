"""What notifications keeps and for how long: its retention rules as data
(``shared.retention``). The delivery log says what was sent to which customer id, when, and
under which release; it answers a customer's question or a complaint, then goes.
"""

from __future__ import annotations

from aiohttp import web

from services.notifications import messages
from services.notifications.config import Settings
from shared.background import CleanupCtx
from shared.retention import AnyRule, Rule, older_than, retention_ctx, standard_rules

RULES: tuple[Rule, ...] = (
    older_than(
        "deliveries",
        "at",
        "delivery_log_retention_days",
        why="evidence of what was sent, for a customer's question or complaint",
        kind="delivery_log",
    ),
    older_than(
        "suppressions",
        "at",
        "suppression_keep_days",
        why="a running campaign's copy; the customers service holds the suppression itself",
    ),
    older_than(
        "unsubscribes",
        "at",
        "unsubscribe_link_days",
        why="a used link publishes once, for as long as a link works",
    ),
)


# Retention names of the data map that no rule here destroys, and why they are kept.
KEPT: dict[str, str] = {
    "campaign_cursor": "a running campaign's position, cleared when the campaign ends"
    " (campaign_storage.finish); the campaign itself names nobody",
}


def rules(app: web.Application) -> list[AnyRule]:
    return [*RULES, *standard_rules(app, messages.QUEUE)]


def notifications_retention_ctx(settings: Settings) -> CleanupCtx:
    return retention_ctx(rules, settings, "notifications")
