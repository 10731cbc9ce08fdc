"""The statistics beacon behind the real nginx gateway: the place of a visitor comes from the
address nginx decided on, so an X-Forwarded-For counts only when the peer that sent it is a
trusted proxy, and Do Not Track reaches the catalog."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import asyncpg
import pytest

from deploy.gateway import SERVICES, NginxGateway, find_nginx, free_port
from services.catalog.app import create_app
from services.catalog.config import Settings
from shared.db import PG_POOL
from shared.service import running_app
from tests.catalog.places import write_places
from tests.deploy.echo import upstream_app

BALANCER = "127.0.0.1"  # trusted by the gateway here
STRANGER = "127.0.0.2"  # another loopback address: not trusted

try:
    find_nginx()
except RuntimeError:  # pragma: no cover - depends on the machine
    pytest.skip("nginx is not installed (make deps)", allow_module_level=True)


@contextlib.asynccontextmanager
async def catalog_behind_nginx(
    tmp_path: Path, dsn: str, amqp_url: str, public_key: str
) -> AsyncIterator[tuple[str, asyncpg.Pool]]:
    settings = Settings(
        database_url=dsn,
        amqp_url=amqp_url,
        jwt_public_key=public_key,
        geoip_database=write_places(tmp_path / "places.mmdb"),
    )
    app = create_app(settings)
    async with contextlib.AsyncExitStack() as stack:
        upstreams = {
            name: await stack.enter_async_context(running_app(upstream_app(name)))
            for name in SERVICES
            if name != "catalog"
        }
        upstreams["catalog"] = await stack.enter_async_context(running_app(app))
        nginx = NginxGateway(
            free_port(), upstreams, tmp_path / "nginx", trusted_proxies=[f"{BALANCER}/32"]
        )
        await stack.enter_async_context(nginx)
        yield nginx.base_url, app[PG_POOL]


async def beacon_from(peer: str, url: str, **headers: str) -> int:
    connector = aiohttp.TCPConnector(local_addr=(peer, 0))
    async with (
        aiohttp.ClientSession(connector=connector) as client,
        client.post(url + "/api/stats/hits", json={"path": "/"}, headers=headers) as response,
    ):
        return response.status


async def test_forwarded_for_counts_only_from_a_trusted_peer(
    tmp_path: Path, make_database, fresh_vhost: str, signing_keys: tuple[str, str]
) -> None:
    # A broker of its own: the run's shared vhost may hold catalog.events declared with the
    # catalog tests' retry delays (a redeclaration with other arguments is refused).
    dsn = await make_database("catalog")
    async with catalog_behind_nginx(tmp_path, dsn, fresh_vhost, signing_keys[1]) as (url, pool):
        # The balancer saw Almaty; what the client claimed before it (Astana) is not believed.
        chain = {"X-Forwarded-For": "178.89.4.4, 95.56.1.1"}
        assert await beacon_from(BALANCER, url, **chain) == 204
        # A stranger claims to be in Almaty: it is the peer, with no place.
        assert await beacon_from(STRANGER, url, **{"X-Forwarded-For": "95.56.1.1"}) == 204
        assert await beacon_from(STRANGER, url, **{"X-Real-IP": "95.56.1.1"}) == 204
        # Do Not Track passes the gateway and the catalog keeps nothing.
        assert await beacon_from(BALANCER, url, DNT="1", **chain) == 204
        rows = await pool.fetch("SELECT city, region FROM stats_hits ORDER BY city")
    assert [tuple(r) for r in rows] == [("", ""), ("", ""), ("Almaty", "Almaty")]
