"""Visit statistics: what the beacon keeps of a page view, the reports built from it, and the
daily roll-up that turns an ended day's raw hits into counters and destroys its visitor hashes.

Where a visitor is comes from their network (never the full address: the /24 or /48 network
is what is looked up) in a MaxMind-format City database; their browser and system from the
User-Agent, as families only. Nothing here keeps an address, a User-Agent or a customer id.
"""

from __future__ import annotations

import functools
import secrets
from collections.abc import AsyncIterator
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

import asyncpg
import maxminddb
from aiohttp import web
from ua_parser import BasicResolver, Domain, Parser, load_builtins

from services.catalog import storage
from services.catalog.config import Settings
from services.catalog.domain import (
    Counter,
    DayTotal,
    family,
    place_of,
    product_of,
    referrer_host,
    visitor_hash,
)
from services.catalog.group_commit import GroupCommit
from shared.background import CleanupCtx
from shared.db import PG_POOL, DbConn
from shared.network import Network, client_address, truncate
from shared.retention import Action, Sweep

PLACE_CACHE = 4096  # networks whose place is remembered (a lookup reads the file)
FAMILY_CACHE = 2000  # User-Agents whose families are remembered (a parse runs regexes)
MAX_USER_AGENT = 1000  # longer User-Agents are cut before parsing


class Visits:
    """The beacon's tools: the places database, the User-Agent parser, the day's salt, and
    the writer that commits the hits arriving together as one statement."""

    def __init__(self, settings: Settings, places: Any | None, pool: asyncpg.Pool) -> None:
        self.settings = settings
        self.writes = GroupCommit(pool, storage.record_visits)
        self._pool = pool
        self.zone = ZoneInfo(settings.stats_timezone)
        self._places = places
        # No cache of the parser's own: the families of recent User-Agents are cached here.
        self._parser = Parser(BasicResolver(load_builtins()))
        self._salt: tuple[date, bytes] | None = None
        self.place = functools.lru_cache(maxsize=PLACE_CACHE)(self._place)
        self.families = functools.lru_cache(maxsize=FAMILY_CACHE)(self._families)

    def today(self) -> date:
        return datetime.now(self.zone).date()

    def _place(self, network: Network) -> tuple[str, str]:
        if self._places is None:
            return "", ""
        try:
            return place_of(self._places.get(str(network.network_address)))
        except (ValueError, maxminddb.InvalidDatabaseError):
            return "", ""

    def _families(self, user_agent: str) -> tuple[str, str]:
        """(browser, system) families; "Other" for what the parser does not know."""
        if not user_agent:
            return "", ""
        result = self._parser(user_agent[:MAX_USER_AGENT], Domain.USER_AGENT | Domain.OS)
        browser = result.user_agent.family if result.user_agent else None
        system = result.os.family if result.os else None
        return family(browser), family(system)

    async def salt(self, day: date) -> bytes:
        """The day's salt, read once per day and process (all replicas share the stored one)."""
        if self._salt is None or self._salt[0] != day:
            async with self._pool.acquire() as conn:
                salt = await storage.day_salt(conn, day, secrets.token_bytes(32))
            self._salt = (day, salt)
        return self._salt[1]

    async def close(self) -> None:
        await self.writes.close()
        if self._places is not None:
            self._places.close()


VISITS = web.AppKey("catalog_visits", Visits)


def visits_ctx(settings: Settings) -> CleanupCtx:
    """Opens the places database for the app's life (``VISITS``)."""

    async def ctx(app: web.Application) -> AsyncIterator[None]:
        path = settings.geoip_database
        places = maxminddb.open_database(str(path)) if path else None
        app[VISITS] = visits = Visits(settings, places, app[PG_POOL])
        yield
        await visits.close()

    return ctx


async def record(visits: Visits, request: web.Request, path: str, referrer: str | None) -> None:
    """Keep one page view, coarse: its day, page, product, referrer host, place, families
    and (to count the day's visitors) a salted hash of network and browser. Returns once
    the hit is committed."""
    day = visits.today()
    address = client_address(
        request.remote, request.headers.get("X-Forwarded-For"), visits.settings.trusted_proxies
    )
    network = truncate(address) if address is not None else None
    city, region = visits.place(network) if network is not None else ("", "")
    user_agent = request.headers.get("User-Agent", "")
    browser, system = visits.families(user_agent)
    salt = await visits.salt(day)
    visitor = visitor_hash(salt, str(network), user_agent) if network is not None else None
    await visits.writes.submit(
        storage.Visit(
            day=day,
            path=path,
            product_id=product_of(path),
            referrer_host=referrer_host(referrer),
            city=city,
            region=region,
            browser=browser,
            os=system,
            visitor=visitor,
        ),
    )


async def report(
    conn: DbConn, start: date, end: date
) -> tuple[list[DayTotal], list[Counter], dict[str, str]]:
    """The days' totals, every dimension's counters, and the names of the products shown."""
    days = await storage.day_totals(conn, start, end)
    counters = await storage.counters(conn, start, end)
    ids = sorted({c.value for c in counters if c.dimension == "product"})
    names = await storage.product_names(conn, ids) if ids else {}
    return days, counters, names


def rollup_sweep(settings: Settings) -> Sweep:
    """Each day over for ``stats_rollup_delay_s`` (beacons in flight have landed) becomes
    counters; its visitor hashes and salt are destroyed (the count is of hashes)."""
    zone = ZoneInfo(settings.stats_timezone)

    async def run(pool: asyncpg.Pool, cutoff: datetime) -> int:
        destroyed = 0
        async with pool.acquire() as conn:
            for day in await storage.open_days_before(conn, cutoff.astimezone(zone).date()):
                async with conn.transaction():
                    destroyed += await storage.roll_up_day(conn, day)
        return destroyed

    return Sweep(
        kind="stats_visitor_hashes",
        period="stats_rollup_delay_s",
        action=Action.DEPERSONALISE,
        run=run,
        why="a day's visitors are counted once the day is over; their hashes and the day's"
        " salt then go, so no visitor can be followed from one day to the next",
    )
