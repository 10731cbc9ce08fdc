"""What orders keeps and for how long (Law 94-V art. 12(2), 18): its retention rules as data.

The shared runner (``shared.retention``) applies them every ``retention_interval_s`` and
writes each run's counts to ``retention_runs``. Orders, their lines, payments and dispatches
are accounting records and are not here: they are kept, and depersonalised on erasure.
"""

from __future__ import annotations

from aiohttp import web

from shared.background import CleanupCtx
from shared.retention import Action, AnyRule, Rule, older_than, retention_ctx, standard_rules

from . import messages
from .config import Settings

RULES: tuple[Rule, ...] = (
    Rule(
        kind="anonymous_carts",
        table="carts",
        age_column="updated_at",
        period="cart_retention_s",
        where="customer_id IS NULL",
        why="a cart nobody signed in to is a visitor's unfinished purchase",
        holding="carts",
    ),
    Rule(
        kind="empty_carts",
        table="carts",
        age_column="updated_at",
        period="empty_cart_retention_s",
        where="NOT EXISTS (SELECT 1 FROM cart_items i WHERE i.cart_id = carts.id)",
        why="an empty cart holds nothing a customer needs; a new one comes on demand",
        holding="carts",
    ),
    older_than(
        "checkout_velocity",
        "window_start",
        "velocity_retention_s",
        why="a counter per account and client network matters for its minute only",
    ),
    older_than(
        "checkout_attempts",
        "window_start",
        "velocity_retention_s",
        why="the attempt ids that keep a retried checkout from counting twice",
        holding="checkout_velocity",
    ),
    older_than(
        "checkout_requests",
        "created_at",
        "checkout_request_retention_days",
        why="an Idempotency-Key makes a retried checkout one order; retries come within"
        " minutes, the order itself stays in 'orders'",
    ),
    older_than(
        "automated_decisions",
        "decided_at",
        "decision_retention_days",
        why="a checkout refused automatically is kept so the customer can object and a person"
        " review it (Law 94-V art. 19-1); a quarter later nobody will",
    ),
    Rule(
        kind="checkout_network_stats",
        table="checkout_network_stats",
        age_column="day",
        period="network_stats_detail_days",
        action=Action.DEPERSONALISE,
        coarsen={"network": "'0.0.0.0/0'::cidr"},
        key=("day", "network", "geo_city", "geo_region"),
        total="checkouts",
        why="per-network counts serve fraud review; after it only the day's counts per city"
        " stay, for any network (art. 17(1): statistics hold depersonalised data)",
    ),
)


# Retention names of the data map that no rule here destroys, and why they are kept.
KEPT: dict[str, str] = {
    "orders_accounting": "orders, lines, payments and dispatches are accounting records"
    " (primary documents, kept at least 5 years); erasure unlinks them from the customer",
}


def rules(app: web.Application) -> list[AnyRule]:
    return [*RULES, *standard_rules(app, messages.QUEUE)]


def orders_retention_ctx(settings: Settings) -> CleanupCtx:
    return retention_ctx(rules, settings, "orders")
