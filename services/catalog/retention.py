"""What catalog keeps and for how long: its retention rules as data (``shared.retention``).

Visit statistics never name a person (art. 17(1): statistics hold depersonalised data). The
raw hits (one coarse row per page view) are rolled up once their day is over, the day's
visitor hashes and salt destroyed then (``visits.rollup_sweep``), and the raw hits themselves
after ``stats_raw_hits_days``. A day's hits per referring site or per city are small groups,
so those counters go after ``page_hits_detail_days``; the other counters stay.
"""

from __future__ import annotations

from aiohttp import web

from services.catalog import messages
from services.catalog.config import Settings
from services.catalog.keys import SETTINGS
from services.catalog.visits import rollup_sweep
from shared.background import CleanupCtx
from shared.retention import AnyRule, Rule, retention_ctx, standard_rules

RULES: tuple[Rule, ...] = (
    Rule(
        kind="stats_hits",
        table="stats_hits",
        age_column="day",
        period="stats_raw_hits_days",
        why="a page view's coarse row is only the roll-up's input; the day's counters stay",
    ),
    Rule(
        kind="stats_detail",
        table="stats_daily",
        age_column="day",
        period="page_hits_detail_days",
        where="dimension IN ('referrer', 'city')",
        why="a day's hits per referrer or per city are small groups; the day's hits per page,"
        " product, region, browser and system stay",
    ),
)


# Retention names of the data map that no rule here destroys, and why they are kept.
KEPT: dict[str, str] = {}


def rules(app: web.Application) -> list[AnyRule]:
    # The roll-up first: it reads the raw hits the rule after it may destroy.
    return [rollup_sweep(app[SETTINGS]), *RULES, *standard_rules(app, messages.QUEUE)]


def catalog_retention_ctx(settings: Settings) -> CleanupCtx:
    return retention_ctx(rules, settings, "catalog")
