"""The nginx gateway in front of a tiny upstream: routing, headers, problem+json, logs."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from yarl import URL

from deploy.gateway import SERVICES, NginxGateway, find_nginx, free_port, render_config
from shared.service import running_app

NAME = web.AppKey("name", str)
TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

try:
    find_nginx()
except RuntimeError:  # pragma: no cover - depends on the machine
    pytest.skip("nginx is not installed (make deps)", allow_module_level=True)


async def echo(request: web.Request) -> web.Response:
    await request.read()
    return web.json_response(
        {"service": request.app[NAME], "path": request.path_qs, "headers": dict(request.headers)}
    )


def upstream_app(name: str) -> web.Application:
    app = web.Application(client_max_size=1024 * 1024)
    app[NAME] = name
    app.router.add_route("*", "/{tail:.*}", echo)
    return app


@pytest.fixture
async def gateway(tmp_path: Path) -> AsyncIterator[tuple[str, NginxGateway]]:
    async with (
        running_app(upstream_app("catalog")) as catalog,
        running_app(upstream_app("orders")) as orders,
        running_app(upstream_app("customers")) as customers,
        running_app(upstream_app("notifications")) as notifications,
    ):
        upstreams = {
            "catalog": catalog,
            "orders": orders,
            "customers": customers,
            "notifications": notifications,
        }
        nginx = NginxGateway(free_port(), upstreams, tmp_path / "nginx")
        async with nginx as base_url:
            yield base_url, nginx


@pytest.fixture
async def client() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=10)) as session:
        yield session


async def get_json(
    client: aiohttp.ClientSession, method: str, url: str, **kwargs: Any
) -> tuple[aiohttp.ClientResponse, Any]:
    async with client.request(method, url, **kwargs) as response:
        return response, json.loads(await response.read())


@pytest.mark.parametrize(
    ("path", "service"),
    [
        ("/api/catalog/products", "catalog"),
        ("/api/stats/hits", "catalog"),
        ("/api/orders/cart", "orders"),
        ("/api/payments/sandbox/callbacks", "orders"),
        ("/api/fulfilment/sandbox/callbacks", "orders"),
        ("/api/customers/me", "customers"),
        ("/account/", "customers"),
        ("/api/notifications/unsubscribe", "notifications"),
    ],
)
async def test_routes_by_prefix(
    gateway: tuple[str, NginxGateway], client: aiohttp.ClientSession, path: str, service: str
) -> None:
    base_url, _ = gateway
    response, body = await get_json(client, "GET", base_url + path)
    assert response.status == 200
    assert body["service"] == service
    assert body["path"] == path


async def test_forwards_client_headers_and_trace(
    gateway: tuple[str, NginxGateway], client: aiohttp.ClientSession
) -> None:
    base_url, _ = gateway
    headers = {
        "traceparent": TRACEPARENT,
        "X-Forwarded-For": "203.0.113.9",  # a client cannot choose the address services see
        "X-Internal-Token": "guess",  # nor smuggle the internal token
    }
    response, body = await get_json(
        client, "GET", f"{base_url}/api/catalog/products?q=x", headers=headers
    )
    assert response.status == 200
    seen = body["headers"]
    assert seen["traceparent"] == TRACEPARENT
    assert seen["X-Forwarded-For"] == "127.0.0.1"
    assert seen["X-Real-IP"] == "127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    assert "X-Internal-Token" not in seen
    assert body["path"] == "/api/catalog/products?q=x"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "nginx/" not in response.headers.get("Server", "")


async def test_starts_a_trace_when_the_client_sends_none_or_garbage(
    gateway: tuple[str, NginxGateway], client: aiohttp.ClientSession
) -> None:
    base_url, _ = gateway
    for headers in ({}, {"traceparent": "not-a-trace"}):
        _, body = await get_json(client, "GET", f"{base_url}/api/orders/", headers=headers)
        trace = body["headers"]["traceparent"]
        assert trace != "not-a-trace"
        version, trace_id, span_id, flags = trace.split("-")
        assert (version, len(trace_id), len(span_id), flags) == ("00", 32, 16, "01")


async def test_healthz_is_answered_by_nginx(
    gateway: tuple[str, NginxGateway], client: aiohttp.ClientSession
) -> None:
    base_url, _ = gateway
    response, body = await get_json(client, "GET", f"{base_url}/healthz")
    assert response.status == 200
    assert body == {"status": "ok"}


@pytest.mark.parametrize(
    "path",
    ["/internal/products?ids=1", "/internal/", "/api/catalog/../../internal/products", "/nope"],
)
async def test_internal_and_unknown_paths_are_404_problems(
    gateway: tuple[str, NginxGateway], client: aiohttp.ClientSession, path: str
) -> None:
    base_url, _ = gateway
    url = URL(base_url + path, encoded=True)
    response, body = await get_json(client, "GET", url)
    assert response.status == 404
    assert response.headers["Content-Type"] == "application/problem+json"
    assert body["status"] == 404
    assert body["title"] == "Not Found"
    assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_large_body_is_a_413_problem(
    gateway: tuple[str, NginxGateway], client: aiohttp.ClientSession
) -> None:
    base_url, _ = gateway
    response, body = await get_json(
        client, "POST", f"{base_url}/api/orders/checkout", data=b"x" * 100_000
    )
    assert response.status == 413
    assert response.headers["Content-Type"] == "application/problem+json"
    assert body["status"] == 413


async def test_small_body_passes(
    gateway: tuple[str, NginxGateway], client: aiohttp.ClientSession
) -> None:
    base_url, _ = gateway
    response, _ = await get_json(
        client, "POST", f"{base_url}/api/orders/checkout", data=b"x" * 60_000
    )
    assert response.status == 200


async def test_dead_upstream_is_a_502_problem(
    tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    dead = f"http://127.0.0.1:{free_port()}"
    upstreams = dict.fromkeys(SERVICES, dead)
    async with NginxGateway(free_port(), upstreams, tmp_path / "nginx") as base_url:
        response, body = await get_json(client, "GET", f"{base_url}/api/orders/")
    assert response.status == 502
    assert response.headers["Content-Type"] == "application/problem+json"
    assert body["status"] == 502


async def test_access_log_has_no_query_string_nor_secrets(
    gateway: tuple[str, NginxGateway], client: aiohttp.ClientSession
) -> None:
    base_url, nginx = gateway
    await get_json(
        client,
        "GET",
        f"{base_url}/api/catalog/products?q=alice%40example.com",
        headers={"Authorization": "Bearer s3cr3t-token", "Cookie": "cart_id=c00k1e"},
    )
    await get_json(client, "POST", f"{base_url}/nope?email=bob%40example.com", data=b"x")
    await asyncio.sleep(0.1)  # nginx writes the line after answering
    text = nginx.access_log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert {(line["method"], line["path"], line["status"]) for line in lines} >= {
        ("GET", "/api/catalog/products", 200),
        ("POST", "/nope", 404),
    }
    for secret in ("?", "example", "s3cr3t", "c00k1e"):
        assert secret not in text
    assert all("remote" not in line for line in lines)  # no client address either


def test_render_refuses_missing_upstreams(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="no upstream"):
        render_config(8080, {"catalog": "http://127.0.0.1:1"}, tmp_path)
