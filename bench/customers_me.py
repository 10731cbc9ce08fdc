"""`GET /api/customers/me` on the real customers app (in its own process) with N customers,
against the same app and handler path without decryption, measured in the same run.

The baseline database is seeded through a vault whose "ciphertexts" are the plaintext and
the baseline app reads through that vault: same routes, token check, queries and audit row,
no key unwrapping and no AES-GCM. The ratio is the cost of the encryption on a read.
"""

from __future__ import annotations

import asyncio
import base64
import os
import random
import subprocess
import sys
from uuid import UUID

from bench.customer_releases import PlainVault, make_vault, seed
from bench.env import bench_database, bench_servers, bench_vhost
from bench.load import NextRequest, load, wait_ready
from deploy.gateway import free_port
from deploy.stack import KEYSTORE
from shared.auth import TokenIssuer, generate_signing_key_pem
from shared.db import create_pool

CUSTOMERS = 2_000


def serve(plain: bool) -> None:
    """Run the real app from the environment; the baseline swaps in the plaintext vault."""
    from aiohttp import web

    from services.customers.app import create_app
    from services.customers.config import Settings
    from services.customers.keys import ACCOUNTS
    from shared.logging import configure_logging

    configure_logging("customers", "WARNING")
    settings = Settings()
    app = create_app(settings)
    if plain:
        app[ACCOUNTS].gate.vault = PlainVault(
            settings.master_key_bytes(), settings.blind_index_key_bytes()
        )
    web.run_app(app, host="127.0.0.1", port=settings.http_port, print=None, access_log=None)


def me_gets(base: str, tokens: list[str]) -> NextRequest:
    return lambda: (
        f"{base}/api/customers/me",
        {"Authorization": f"Bearer {random.choice(tokens)}"},
    )


async def measure(dsn: str, keystore_dsn: str, amqp_url: str, plain: bool) -> dict[str, float]:
    master, blind = os.urandom(32), os.urandom(32)
    vault = make_vault(plain, master, blind)
    pool = await create_pool(dsn, min_size=1, max_size=1)
    keys = await create_pool(keystore_dsn, min_size=1, max_size=1)
    async with pool.acquire() as conn, keys.acquire() as keys_conn:
        ids = await seed(conn, keys_conn, vault, CUSTOMERS)
    await keys.close()
    await pool.close()
    private, public = generate_signing_key_pem()
    issuer = TokenIssuer(private, ttl_s=3600)
    tokens = [issuer.issue(UUID(str(i)), "customer") for i in ids]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": dsn,
        "KEYSTORE_DATABASE_URL": keystore_dsn,
        "AMQP_URL": amqp_url,
        "HTTP_PORT": str(port),
        "JWT_PRIVATE_KEY": private,
        "JWT_PUBLIC_KEY": public,
        "MASTER_KEY": base64.b64encode(master).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(blind).decode(),
        "PD_STORE_REGION": "KZ",
        "LOG_LEVEL": "WARNING",
    }
    mode = "plain" if plain else "crypto"
    process = subprocess.Popen([sys.executable, "-m", "bench.customers_me", mode], env=env)
    try:
        base = f"http://127.0.0.1:{port}"
        await wait_ready(f"{base}/healthz")
        await load(me_gets(base, tokens[:50]))  # warm-up
        return await load(me_gets(base, tokens))
    finally:
        process.terminate()
        process.wait(10)


async def run() -> dict[str, float]:
    results: dict[str, dict[str, float]] = {}
    with bench_servers() as servers, bench_vhost(servers) as amqp_url:
        for name, plain in (("decrypting", False), ("no-crypto", True)):
            async with (
                bench_database(servers, "customers") as dsn,
                bench_database(servers, KEYSTORE) as keystore_dsn,
            ):
                results[name] = await measure(dsn, keystore_dsn, amqp_url, plain)
    for name, figures in results.items():
        print(
            f"customers GET /me {name:10s} {figures['rps']:8.0f} req/s"
            f"  p50 {figures['p50_ms']:6.2f} ms  p99 {figures['p99_ms']:6.2f} ms"
        )
    ratio = results["decrypting"]["rps"] / results["no-crypto"]["rps"]
    print(f"customers GET /me decrypting / no-crypto {ratio:8.2f}  ({CUSTOMERS} customers)")
    return {"ratio": ratio, **{f"me_{k}": v for k, v in results["decrypting"].items()}}


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] in ("plain", "crypto"):
        serve(sys.argv[1] == "plain")
    else:
        asyncio.run(run())
