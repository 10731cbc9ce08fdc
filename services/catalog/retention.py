"""What catalog keeps and for how long: its retention rules as data (``shared.retention``).

Visit statistics never name a person; still, a day's hits from one referring site in one
city can be one visitor, so after ``page_hits_detail_days`` they keep only the path and the
region (art. 17(1): statistics hold depersonalised data).
"""

from __future__ import annotations

from aiohttp import web

from services.catalog import messages
from services.catalog.config import Settings
from shared.background import CleanupCtx
from shared.retention import Action, AnyRule, Rule, retention_ctx, standard_rules

RULES: tuple[Rule, ...] = (
    Rule(
        kind="page_hits",
        table="page_hits",
        age_column="day",
        period="page_hits_detail_days",
        action=Action.DEPERSONALISE,
        coarsen={"referrer_host": "''", "city": "''"},
        key=("day", "path", "referrer_host", "city", "region"),
        total="hits",
        why="a day's hits per referrer and city are small groups; the day's hits per path"
        " and region stay",
    ),
)


# Retention names of the data map that no rule here destroys, and why they are kept.
KEPT: dict[str, str] = {}


def rules(app: web.Application) -> list[AnyRule]:
    return [*RULES, *standard_rules(app, messages.QUEUE)]


def catalog_retention_ctx(settings: Settings) -> CleanupCtx:
    return retention_ctx(rules, settings, "catalog")
