"""A marketing campaign by email to N consented customers into the local SMTP sink: emails/s
and the notifications process's peak RSS, against raw aiosmtplib sending as many messages of
the same size to the same sink with the same concurrency, in the same run.

For each size of ``BENCH_CAMPAIGN_SIZES`` (default ``10000,100000``), a fresh shop: catalog,
customers and notifications as processes (``deploy.stack``) on throw-away databases and a
vhost, and the SMTP sink as a process. N customers with marketing consent by email are seeded
straight into the customers database and its key store (``bench.customer_releases.seed``,
under the service's own keys: sealed as registration leaves them, no argon2 per customer),
the demo catalog into the catalog's. A marketer (a token signed with the stack's key) makes a
promotion in the catalog and a campaign for it through the notifications API; the clock runs
from that POST until ``GET /api/notifications/campaigns/{id}`` says ``completed`` (polled
every 100 ms). Meanwhile the RSS of notifications and customers is read from ``/proc`` every
100 ms (the peak of ``VmRSS`` while the campaign runs, and ``VmHWM``, the process's peak since
its start), and their CPU from ``/proc/<pid>/stat``.

Then the raw baseline, in the same run against the same sink: plain aiosmtplib, sessions
opened first and kept, ``CAMPAIGN_CONCURRENCY`` at a time (the service's setting), N messages
of the average size the sink received from the campaign; and the same again with 16 sessions
(what the sink itself takes). The sink's and the sender's CPU per message say where the
ceiling is on this machine.

Checked after each campaign (printed, not asserted): the sink received exactly one message
per sent recipient; the delivery log holds one row per customer (none twice, none missing);
no address of a customer is in the notifications database.

Until the notifications campaigns are built (``services.notifications.campaign_runner``),
only the raw baseline runs. ``BENCH_PROFILE=1`` records py-spy profiles of notifications and
customers during the largest campaign.

    .venv/bin/python -m bench.campaign
    BENCH_CAMPAIGN_SIZES=2000 .venv/bin/python -m bench.campaign
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import importlib.util
import json
import os
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import uuid4

import aiohttp
import aiosmtplib

from bench.customer_releases import seed
from bench.env import bench_database, bench_servers, bench_vhost
from bench.profiling import cpu_seconds, py_spy, summarise_profile
from bench.shop import catalog_products
from deploy.local_secrets import Secrets, ensure_secrets
from deploy.processes import ROOT, Child, stop_all, wait_ready
from deploy.stack import DATABASES, KEYSTORE, Ports, Shop
from services.customers.crypto import Vault
from services.notifications.config import Settings
from shared.auth import TokenIssuer
from shared.db import create_pool

SIZES = [int(n) for n in os.environ.get("BENCH_CAMPAIGN_SIZES", "10000,100000").split(",")]
# The service's campaign settings for the run (unset: the service's defaults).
TUNING = {
    name.removeprefix("BENCH_").lower(): value
    for name, value in os.environ.items()
    if name in ("BENCH_CAMPAIGN_CONCURRENCY", "BENCH_CAMPAIGN_BATCH_SIZE")
}
SINK_SESSIONS = 16  # the raw sender's second run: what the sink takes with many sessions
SEED_CHUNK = 10_000
POLL_S = 0.1
CAMPAIGN_TIMEOUT_S = float(os.environ.get("BENCH_CAMPAIGN_TIMEOUT_S", 1800))
SERVICES = ("catalog", "customers", "notifications")
LOG_DIR = ROOT / "var" / "log" / "bench-campaign"
PROFILES = ROOT / "var" / "bench" / "campaign-profiles"
SENDER = "no-reply@shop.kz"


def campaigns_built() -> bool:
    return importlib.util.find_spec("services.notifications.campaign_runner") is not None


# ---------------------------------------------------------------------------- /proc


def status_kib(pid: int, key: str) -> int:
    """A ``VmRSS``/``VmHWM`` line of ``/proc/<pid>/status`` in KiB (0 once it is gone)."""
    with contextlib.suppress(OSError):
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(f"{key}:"):
                return int(line.split()[1])
    return 0


@dataclass
class Sampler:
    """The peak RSS of some processes, read every ``POLL_S`` until stopped."""

    pids: dict[str, int]
    peak_kib: dict[str, int] = field(default_factory=dict)
    start_kib: dict[str, int] = field(default_factory=dict)

    async def run(self, stop: asyncio.Event) -> None:
        self.start_kib = {name: status_kib(pid, "VmRSS") for name, pid in self.pids.items()}
        while not stop.is_set():
            for name, pid in self.pids.items():
                self.peak_kib[name] = max(self.peak_kib.get(name, 0), status_kib(pid, "VmRSS"))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), POLL_S)

    def hwm_kib(self) -> dict[str, int]:
        return {name: status_kib(pid, "VmHWM") for name, pid in self.pids.items()}


# ---------------------------------------------------------------------------- the shop


@dataclass(frozen=True)
class CampaignShop:
    shop: Shop
    children: list[Child]
    tokens: TokenIssuer

    def url(self, service: str) -> str:
        return self.shop.service_url(service)

    @property
    def sink_port(self) -> int:
        return self.shop.ports.smtp

    @property
    def sink_url(self) -> str:
        return f"http://127.0.0.1:{self.shop.ports.smtp_http}"

    def pid(self, name: str) -> int:
        child = next(c for c in self.children if c.name == name)
        assert child.process is not None
        return child.process.pid

    def marketer(self) -> str:
        return self.tokens.issue(uuid4(), "staff", frozenset({"marketer"}))


def vault_of(secrets: Secrets) -> Vault:
    """The customers service's vault, from the stack's key files."""
    master = base64.b64decode(secrets.read(secrets.master_key))
    blind = base64.b64decode(secrets.read(secrets.blind_index_key))
    return Vault(master, blind)


async def seed_customers(dsns: dict[str, str], secrets: Secrets, n: int) -> float:
    """n customers with marketing consent by email, sealed under the service's keys."""
    started = time.perf_counter()
    vault = vault_of(secrets)
    pool = await create_pool(dsns["customers"], min_size=1, max_size=1)
    keys = await create_pool(dsns[KEYSTORE], min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn, keys.acquire() as keys_conn:
            for first in range(0, n, SEED_CHUNK):
                count = min(SEED_CHUNK, n - first)
                await seed(conn, keys_conn, vault, count, declining_every=0, first=first)
    finally:
        await keys.close()
        await pool.close()
    return time.perf_counter() - started


@contextlib.asynccontextmanager
async def campaign_shop() -> AsyncIterator[tuple[CampaignShop, dict[str, str]]]:
    """The sink, catalog, customers and notifications as processes on fresh databases."""
    level = os.environ.get("BENCH_LOG_LEVEL", "warning")
    with (
        bench_servers() as servers,
        bench_vhost(servers) as amqp_url,
        tempfile.TemporaryDirectory(prefix="bench-campaign-") as tmp,
    ):
        async with contextlib.AsyncExitStack() as exits:
            dsns = {
                name: await exits.enter_async_context(bench_database(servers, name))
                for name in DATABASES
            }
            secrets = ensure_secrets(Path(tmp) / "secrets")
            tuning: dict[str, dict[str, Any]] = {s: {"log_level": level} for s in SERVICES}
            tuning["notifications"].update(TUNING)
            shop = Shop(Ports.free(), dsns, amqp_url, secrets, tuning=tuning)
            wanted = ("smtp_sink", *SERVICES)
            children = [Child(s, LOG_DIR) for s in shop.processes() if s.name in wanted]
            tokens = TokenIssuer(secrets.jwt_private.read_text(), ttl_s=3 * 3600)
            try:
                for child in children:
                    await child.start()
                await wait_ready(children)
                yield CampaignShop(shop, children, tokens), dsns
            finally:
                await stop_all(children)


async def call(
    http: aiohttp.ClientSession, method: str, url: str, token: str, body: Any = None
) -> tuple[int, Any]:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.request(method, url, json=body, headers=headers) as response:
        return response.status, await response.json(content_type=None)


async def make_promotion(http: aiohttp.ClientSession, shop: CampaignShop) -> str:
    """A live promotion of 15 % on five demo products, made by a marketer in the catalog."""
    status, page = await call(
        http, "GET", f"{shop.url('catalog')}/api/catalog/products?limit=5", shop.marketer()
    )
    if status != 200:
        raise RuntimeError(f"catalog products: {status}")
    now = datetime.now(UTC)
    body = {
        "name": "Зимняя аптечка",
        "discount": {"percent": 15},
        "product_ids": [item["id"] for item in page["items"]],
        "starts_at": now.isoformat(),
        "ends_at": (now + timedelta(days=7)).isoformat(),
    }
    url = f"{shop.url('catalog')}/api/catalog/promotions"
    status, made = await call(http, "POST", url, shop.marketer(), body)
    if status != 201:
        raise RuntimeError(f"promotion: {status} {made}")
    return str(made["id"])


async def sink_stats(http: aiohttp.ClientSession, shop: CampaignShop) -> dict[str, int]:
    async with http.get(f"{shop.sink_url}/stats") as response:
        if response.status != 200:
            return {}
        stats: dict[str, int] = await response.json()
        return stats


# ---------------------------------------------------------------------------- the campaign


@dataclass
class CampaignRun:
    size: int
    sent: int = 0
    seconds: float = 0.0
    status: str = ""
    failed: int = 0
    skipped: int = 0
    peak_kib: dict[str, int] = field(default_factory=dict)
    start_kib: dict[str, int] = field(default_factory=dict)
    hwm_kib: dict[str, int] = field(default_factory=dict)
    cpu_s: dict[str, float] = field(default_factory=dict)
    sink: dict[str, int] = field(default_factory=dict)
    checks: dict[str, Any] = field(default_factory=dict)
    profiles: dict[str, Path] = field(default_factory=dict)

    @property
    def per_s(self) -> float:
        return self.sent / self.seconds if self.seconds else 0.0

    @property
    def message_bytes(self) -> int:
        received = self.sink.get("received", 0)
        return self.sink.get("bytes", 0) // received if received else 0


async def run_campaign(
    http: aiohttp.ClientSession, shop: CampaignShop, size: int, profile: bool
) -> CampaignRun:
    result = CampaignRun(size)
    promotion_id = await make_promotion(http, shop)
    pids = {name: shop.pid(name) for name in ("notifications", "customers")}
    cpu_before = {name: cpu_seconds(pid) for name, pid in pids.items()}
    sink_before = await sink_stats(http, shop)
    sampler = Sampler(pids)
    stop = asyncio.Event()
    sampling = asyncio.create_task(sampler.run(stop))
    # A long profile is cut off by the campaign's end (py-spy stops with a partial file).
    spy_seconds = 60 if profile else 0
    PROFILES.mkdir(parents=True, exist_ok=True)
    with py_spy(pids if profile else {}, spy_seconds, PROFILES) as profiles:
        started = time.perf_counter()
        url = f"{shop.url('notifications')}/api/notifications/campaigns"
        status, made = await call(
            http, "POST", url, shop.marketer(), {"promotion_id": promotion_id, "channel": "email"}
        )
        if status != 201:
            raise RuntimeError(f"campaign: {status} {made}")
        view = made
        async with asyncio.timeout(CAMPAIGN_TIMEOUT_S):
            while view["status"] not in ("completed", "cancelled"):
                await asyncio.sleep(POLL_S)
                status, view = await call(http, "GET", f"{url}/{made['id']}", shop.marketer())
                if status != 200:
                    raise RuntimeError(f"campaign view: {status}")
        result.seconds = time.perf_counter() - started
        stop.set()
        await sampling
        result.profiles = profiles
    result.status = view["status"]
    result.sent = view["sent"]
    result.failed = view["failed"]
    result.skipped = sum(view["skipped"].values())
    result.peak_kib, result.start_kib = sampler.peak_kib, sampler.start_kib
    result.hwm_kib = sampler.hwm_kib()
    result.cpu_s = {name: cpu_seconds(pid) - cpu_before[name] for name, pid in pids.items()}
    after = await sink_stats(http, shop)
    result.sink = {key: after.get(key, 0) - sink_before.get(key, 0) for key in after}
    return result


async def check_log(dsn: str, size: int) -> dict[str, Any]:
    """One delivery row per customer (none twice, none missing), and no address in the
    notifications database."""
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            rows = await conn.fetchrow(
                "SELECT count(*) AS rows, count(DISTINCT customer_id) AS customers,"
                " count(*) FILTER (WHERE status = 'sent') AS sent"
                " FROM deliveries WHERE kind = 'campaign'"
            )
            addresses = 0
            for table in ("deliveries", "campaigns", "outbox"):
                addresses += await conn.fetchval(
                    f"SELECT count(*) FROM {table} AS t"
                    " WHERE row_to_json(t)::text LIKE '%@example.kz%'"
                )
    finally:
        await pool.close()
    assert rows is not None
    return {
        "rows": rows["rows"],
        "once_each": rows["rows"] == rows["customers"] == size,
        "sent_rows": rows["sent"],
        "rows_with_an_address": addresses,
    }


# ---------------------------------------------------------------------------- raw aiosmtplib


def raw_message(i: int, size: int) -> bytes:
    """A message of about ``size`` bytes: headers and base64-like lines, as a campaign's is."""
    head = (
        f"From: Shop <{SENDER}>\r\nTo: customer{i}@example.kz\r\nSubject: bench\r\n"
        f"Message-ID: <{uuid4()}@shop.kz>\r\nContent-Type: text/plain; charset=utf-8\r\n"
        "Content-Transfer-Encoding: base64\r\n\r\n"
    ).encode()
    line = b"0123456789" * 7 + b"ABCDEF\r\n"  # 78 bytes, like base64 at 76 columns
    return head + line * max(0, (size - len(head)) // len(line))


@dataclass
class RawRun:
    sessions: int
    messages: int
    seconds: float
    client_cpu_s: float
    sink_cpu_s: float

    @property
    def per_s(self) -> float:
        return self.messages / self.seconds


async def raw_send(port: int, sink_pid: int, n: int, size: int, sessions: int) -> RawRun:
    """n messages over ``sessions`` kept sessions, as fast as the sink takes them."""
    clients = [aiosmtplib.SMTP(hostname="127.0.0.1", port=port) for _ in range(sessions)]
    for client in clients:
        await client.connect()
    messages = [raw_message(i, size) for i in range(min(n, 1000))]
    waiting = iter(range(n))

    async def worker(client: aiosmtplib.SMTP) -> None:
        for i in waiting:
            await client.sendmail(SENDER, [f"customer{i}@example.kz"], messages[i % len(messages)])

    sink_before, own_before = cpu_seconds(sink_pid), cpu_seconds(os.getpid())
    started = time.perf_counter()
    await asyncio.gather(*(worker(c) for c in clients))
    seconds = time.perf_counter() - started
    run = RawRun(
        sessions,
        n,
        seconds,
        cpu_seconds(os.getpid()) - own_before,
        cpu_seconds(sink_pid) - sink_before,
    )
    for client in clients:
        await client.quit()
    return run


# ---------------------------------------------------------------------------- report


def mib(kib: int) -> str:
    return f"{kib / 1024:.0f}"


def report(
    campaigns: list[CampaignRun], raws: dict[int, list[RawRun]], concurrency: int
) -> list[str]:
    lines = ["", "=" * 100, f"campaign by email into the SMTP sink ({concurrency} sessions)"]
    lines.append("=" * 100)
    lines.append(
        f"  {'audience':>9s}{'sent':>8s}{'s':>7s}{'emails/s':>9s}{'raw/s':>8s}{'ratio':>7s}"
        f"{'raw16/s':>8s}{'msg B':>7s}{'notif RSS peak/HWM MiB':>24s}{'cust RSS MiB':>13s}"
        f"{'CPU ms/email n, c':>19s}"
    )
    for run in campaigns:
        raw, wide = raws[run.size][0], raws[run.size][-1]
        notif_ms = 1000 * run.cpu_s["notifications"] / max(run.sent, 1)
        cust_ms = 1000 * run.cpu_s["customers"] / max(run.sent, 1)
        lines.append(
            f"  {run.size:9d}{run.sent:8d}{run.seconds:7.1f}{run.per_s:9.0f}{raw.per_s:8.0f}"
            f"{run.per_s / raw.per_s:7.2f}{wide.per_s:8.0f}{run.message_bytes:7d}"
            f"{mib(run.peak_kib['notifications']) + ' / ' + mib(run.hwm_kib['notifications']):>24s}"
            f"{mib(run.peak_kib['customers']):>13s}{f'{notif_ms:.2f}, {cust_ms:.2f}':>19s}"
        )
        lines.append(
            f"  {'':9s} status {run.status}, failed {run.failed}, skipped {run.skipped};"
            f" sink received {run.sink.get('received', '?')}; delivery log {run.checks}"
        )
    for runs in raws.values():
        for raw in runs:
            lines.append(
                f"  raw aiosmtplib, {raw.messages} messages over {raw.sessions:2d} sessions:"
                f" {raw.per_s:6.0f}/s; CPU per message: sender"
                f" {1000 * raw.client_cpu_s / raw.messages:.2f} ms, sink"
                f" {1000 * raw.sink_cpu_s / raw.messages:.2f} ms"
            )
    lines.append(
        "  goals: >= 2000 emails/s, >= 0.70 of raw, notifications' RSS < 200 MB and flat with"
        " the audience"
    )
    return lines


async def measure_size(size: int, profile: bool) -> tuple[CampaignRun | None, list[RawRun]]:
    async with (
        campaign_shop() as (shop, dsns),
        aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http,
    ):
        result: CampaignRun | None = None
        size_bytes = 6000
        concurrency = concurrency_setting()
        if campaigns_built():
            await catalog_products(dsns["catalog"])
            seconds = await seed_customers(dsns, shop.shop.secrets, size)
            print(f"[bench] {size} customers seeded in {seconds:.0f} s", flush=True)
            result = await run_campaign(http, shop, size, profile)
            result.checks = await check_log(dsns["notifications"], size)
            size_bytes = result.message_bytes or size_bytes
        sink_pid = shop.pid("smtp_sink")
        raws = [
            await raw_send(shop.sink_port, sink_pid, size, size_bytes, sessions)
            for sessions in (concurrency, SINK_SESSIONS)
        ]
        return result, raws


def concurrency_setting() -> int:
    """The service's messages at once (the raw sender uses as many sessions)."""
    if "campaign_concurrency" in TUNING:
        return int(TUNING["campaign_concurrency"])
    known = Settings.model_fields.get("campaign_concurrency")
    default = known.default if known is not None else None
    return default if isinstance(default, int) else 4


async def run() -> dict[str, Any]:
    built = campaigns_built()
    print(
        f"campaign bench: audiences {SIZES}"
        + ("" if built else " (campaigns not built yet: the raw baseline only)"),
        flush=True,
    )
    campaigns: list[CampaignRun] = []
    raws: dict[int, list[RawRun]] = {}
    for size in SIZES:
        result, raws[size] = await measure_size(size, profile=size == max(SIZES))
        if result is not None:
            campaigns.append(result)
    concurrency = concurrency_setting()
    lines = report(campaigns, raws, concurrency)
    for run_ in campaigns:
        for name, path in run_.profiles.items():
            lines += ["", f"py-spy profile of {name} ({run_.size}):", *summarise_profile(path)]
    print("\n".join(lines), flush=True)
    summary: dict[str, Any] = {
        "bench": "campaign",
        "sessions": concurrency,
        "sizes": {
            str(size): {
                "raw_per_s": round(raws[size][0].per_s),
                f"raw_{SINK_SESSIONS}_per_s": round(raws[size][-1].per_s),
                "sink_cpu_ms": round(1000 * raws[size][-1].sink_cpu_s / size, 3),
            }
            for size in SIZES
        },
    }
    for run_ in campaigns:
        summary["sizes"][str(run_.size)].update(
            {
                "emails_per_s": round(run_.per_s),
                "ratio": round(run_.per_s / raws[run_.size][0].per_s, 2),
                "notifications_peak_rss_mib": round(run_.peak_kib["notifications"] / 1024, 1),
                "notifications_hwm_mib": round(run_.hwm_kib["notifications"] / 1024, 1),
                "customers_peak_rss_mib": round(run_.peak_kib["customers"] / 1024, 1),
                "once_each": run_.checks.get("once_each"),
            }
        )
    print(json.dumps(summary), flush=True)
    return summary


if __name__ == "__main__":
    asyncio.run(run())
