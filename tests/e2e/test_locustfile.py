"""bench/locustfile.py headless for a few seconds against the local shop (through nginx): the
storefront's mix ran, orders were checked out, and no request failed."""

from __future__ import annotations

import asyncio
import json
import sys
from pathlib import Path

import pytest

from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

ROOT = Path(__file__).resolve().parents[2]
USERS = 4
SECONDS = 12
THINK_TIME_S = 0.1
# A shopper here checks out every second or two, far above a person's 5 a minute.
SHOP_TUNING = {"orders": {"checkout_limit_per_account_per_min": 10_000}}


async def test_the_storefront_mix_checks_out_with_no_failure(shop: Stack, tmp_path: Path):
    locust = Path(sys.executable).with_name("locust")
    process = await asyncio.create_subprocess_exec(
        str(locust), "-f", str(ROOT / "bench" / "locustfile.py"), "--host", shop.gateway_url,
        "--headless", "-u", str(USERS), "-r", str(USERS), "-t", f"{SECONDS}s",
        "--shop-think-time", str(THINK_TIME_S), "--only-summary", "--skip-log", "--json",
        "--stop-timeout", "10",
        cwd=tmp_path, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE,
    )  # fmt: skip
    out, err = await asyncio.wait_for(process.communicate(), SECONDS + 60)
    stats = {s["name"]: s for s in json.loads(out)}
    print({name: (s["num_requests"], s["num_failures"]) for name, s in stats.items()})
    failures = {name: s["num_failures"] for name, s in stats.items() if s["num_failures"]}
    assert not failures, (failures, err.decode()[-3000:])
    assert process.returncode == 0, err.decode()[-3000:]  # locust's own verdict: no failure
    assert stats["/api/customers/register"]["num_requests"] == USERS
    assert stats["/api/orders/checkout"]["num_requests"] >= 1
    browsing = ("/api/catalog/products", "/api/catalog/products?q=", "/api/catalog/products/{id}")
    browsed = sum(stats[name]["num_requests"] for name in browsing if name in stats)
    # The mix: browsing well ahead of checkouts (10 to 1, give or take chance).
    assert browsed > 3 * stats["/api/orders/checkout"]["num_requests"]
