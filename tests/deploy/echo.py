"""Tiny upstreams behind a real nginx gateway, for the gateway's tests."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
from aiohttp import web
from yarl import URL

from deploy.gateway import SERVICES, NginxGateway, free_port
from shared.service import running_app

NAME = web.AppKey("name", str)
# The service's own problem, byte for byte (the gateway must not replace it with its own).
UPSTREAM_PROBLEM = b'{"type":"about:blank","title":"Refused by the service","detail":"Ours."}'


async def echo(request: web.Request) -> web.Response:
    """What the upstream received and who it is; .../problem/<status> a problem, .../slow slow."""
    await request.read()
    head, _, status = request.path.rpartition("/")
    if head.endswith("/problem"):  # .../problem/<status>: the service's own problem
        return web.Response(
            status=int(status), body=UPSTREAM_PROBLEM, content_type="application/problem+json"
        )
    if request.path.endswith("/slow"):
        await asyncio.sleep(3)
    return web.json_response(
        {"service": request.app[NAME], "path": request.path_qs, "headers": dict(request.headers)}
    )


def upstream_app(name: str) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[NAME] = name
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


@contextlib.asynccontextmanager
async def echo_gateway(workdir: Path, **options: Any) -> AsyncIterator[NginxGateway]:
    """nginx in front of four upstreams that answer what they received and who they are."""
    async with contextlib.AsyncExitStack() as stack:
        upstreams = {
            name: await stack.enter_async_context(running_app(upstream_app(name)))
            for name in SERVICES
        }
        nginx = NginxGateway(free_port(), upstreams, workdir, **options)
        await stack.enter_async_context(nginx)
        yield nginx


async def get_json(
    client: aiohttp.ClientSession, method: str, url: str | URL, **kwargs: Any
) -> tuple[aiohttp.ClientResponse, Any]:
    async with client.request(method, url, allow_redirects=False, **kwargs) as response:
        return response, json.loads(await response.read())
