"""What customers keeps and for how long: its retention rules as data (``shared.retention``).

There is no half-finished registration to expire: registration is one request that either
creates the account (with its consent record) or stores nothing. What a visitor leaves
behind without finishing anything is a browser session on the account pages and sign-in
failure counters; they are here. The customer's record itself, consents, disclosures and the
audit log are kept while the account lives (and for the law's terms after); an inactive
account is told, then erased (``inactivity.py``).
"""

from __future__ import annotations

from aiohttp import web

from shared.background import CleanupCtx
from shared.retention import AnyRule, Rule, older_than, retention_ctx, standard_rules

from . import inactivity, messages
from .config import Settings

RULES: tuple[Rule, ...] = (
    older_than(
        "refresh_sessions",
        "expires_at",
        "refresh_session_retention_days",
        why="an expired refresh token signs nobody in; kept a little past expiry to trace"
        " a replayed token",
    ),
    older_than(
        "web_sessions",
        "expires_at",
        "web_session_retention_days",
        why="a browser session of the account pages that ended or was left unfinished",
    ),
    older_than(
        "login_backoff",
        "last_failure_at",
        "login_forget_after_s",
        why="failed sign-in counters per login and network count only while they are fresh",
    ),
)


# Retention names of the data map that no rule here destroys, and why they are kept.
KEPT: dict[str, str] = {
    "consent_evidence": "the proof of consent (Law 94-V art. 8(4)) outlives the processing it"
    " allowed; kept",
    "disclosure_register": "the register of releases and disclosures is evidence the customer"
    " and the authorised body may ask for; kept",
    "audit_log": "who read personal data for which purpose (art. 22 security of processing);"
    " an append-only hash chain, kept",
    "subject_requests": "the register of the customer's requests and their answers is"
    " evidence of the law's deadlines met; kept",
}


# The data map's names the app-built sweeps serve (inactivity.sweeps: notice, then erasure).
SWEPT: tuple[str, ...] = ("account",)


def rules(app: web.Application) -> list[AnyRule]:
    sweeps = inactivity.sweeps(app)
    return [*RULES, *sweeps, *standard_rules(app, messages.QUEUE)]


def customers_retention_ctx(settings: Settings) -> CleanupCtx:
    return retention_ctx(rules, settings, "customers")
