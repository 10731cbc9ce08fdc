"""Sign-in throttling as the use cases apply it: check before the password is tried, count
a failure, forget on success. Stale counters are retention's (``retention.py``).

The answer is the same whether the account exists (the counter is keyed by the login tried),
and a network's failures never slow the owner signing in from another network. Autocommit:
the counters must survive the refusal they cause.
"""

from __future__ import annotations

import math
from datetime import timedelta

from shared.db import DbConn

from .domain import Throttling, backoff_delay_s
from .storage import throttle as storage
from .storage.throttle import NETWORK_WIDE, Realm


class Throttled(Exception):
    """Too many failed attempts for this login from this network (or from this network at
    all); the same whether or not the account exists."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("too many failed attempts")
        self.retry_after = retry_after


class SignInThrottle:
    def __init__(self, rules: Throttling) -> None:
        self.rules = rules

    def _free(self, account: bytes) -> int:
        if account == NETWORK_WIDE:
            return self.rules.free_failures_network
        return self.rules.free_failures_account

    async def check(self, conn: DbConn, realm: Realm, network: str, account: bytes) -> None:
        """Raise Throttled while the delay the counters imply is running."""
        rows = await storage.failures(
            conn, realm, network, [account, NETWORK_WIDE], self.rules.forget_after_s
        )
        wait = 0.0
        for row in rows:
            delay = backoff_delay_s(row.failures, self._free(row.account), self.rules.max_delay_s)
            until = row.last_failure_at + timedelta(seconds=delay)
            wait = max(wait, (until - row.now).total_seconds())
        if wait > 0:
            raise Throttled(max(1, math.ceil(wait)))

    async def failed(self, conn: DbConn, realm: Realm, network: str, account: bytes) -> None:
        await storage.record_failure(
            conn, realm, network, [account, NETWORK_WIDE], self.rules.forget_after_s
        )

    async def succeeded(self, conn: DbConn, realm: Realm, network: str, account: bytes) -> None:
        await storage.clear_failures(conn, realm, network, account)
