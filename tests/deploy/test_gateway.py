"""The nginx gateway in front of tiny upstreams: routing, headers, the client's address."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest

from deploy.gateway import (
    LOOPBACK,
    ROUTES,
    SERVICES,
    GatewayError,
    NginxGateway,
    find_nginx,
    render_config,
    trusted_proxies_setting,
)
from tests.contract_paths import CONTRACT
from tests.deploy.echo import UPSTREAM_PROBLEM, echo_gateway, get_json

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"

try:
    find_nginx()
except RuntimeError:  # pragma: no cover - depends on the machine
    pytest.skip("nginx is not installed (make deps)", allow_module_level=True)


async def test_every_contract_path_reaches_its_service(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    misrouted = []
    for method, path, service in CONTRACT:
        async with client.request(method, gateway.base_url + path, allow_redirects=False) as r:
            answer = await r.read()
            seen = json.loads(answer) if r.content_type == "application/json" else {}
            if (r.status, seen.get("service"), seen.get("path")) != (200, service, path):
                misrouted.append((method, path, r.status, answer[:80]))
    assert misrouted == []


async def test_each_prefix_without_its_slash_reaches_its_service(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    for prefix, service in ROUTES:
        response, body = await get_json(client, "GET", gateway.base_url + prefix.rstrip("/"))
        assert (response.status, body.get("service")) == (200, service), prefix
    response, body = await get_json(client, "GET", gateway.base_url + "/api/ordersx")
    assert (response.status, body["title"]) == (404, "Not Found")  # no prefix of a neighbour


async def test_no_answer_points_to_the_host_a_client_sends(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    forged = {"Host": "evil.example:666", "X-Forwarded-Host": "evil.example"}
    paths = [path for _, path, _ in CONTRACT]
    paths += [prefix.rstrip("/") for prefix, _ in ROUTES] + ["/nope", "/internal", "/account"]
    for path in paths:
        async with client.get(gateway.base_url + path, headers=forged, allow_redirects=False) as r:
            assert not 300 <= r.status < 400, (path, r.status)
            assert "evil" not in r.headers.get("Location", ""), path


async def test_the_services_problems_pass_untouched(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    for status in (400, 404, 405, 409, 413, 500, 502, 503, 504):  # nginx has pages for most
        async with client.get(f"{gateway.base_url}/api/orders/problem/{status}") as response:
            assert response.status == status
            assert response.headers["Content-Type"] == "application/problem+json"
            assert await response.read() == UPSTREAM_PROBLEM


async def test_forwards_client_headers_and_trace(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    headers = {
        "traceparent": TRACEPARENT,
        "X-Internal-Token": "guess",  # a client cannot smuggle the internal token
        "X-Geo-City": "Forged",  # nor say where it is
        "X-Geo-Region": "Forged",
    }
    response, body = await get_json(
        client, "GET", f"{gateway.base_url}/api/catalog/products?q=x", headers=headers
    )
    assert response.status == 200
    seen = body["headers"]
    assert seen["traceparent"] == TRACEPARENT
    assert seen["X-Forwarded-For"] == "127.0.0.1"
    assert seen["X-Real-IP"] == "127.0.0.1"
    assert seen["X-Forwarded-Proto"] == "http"
    for dropped in ("X-Internal-Token", "X-Geo-City", "X-Geo-Region"):
        assert dropped not in seen
    assert body["path"] == "/api/catalog/products?q=x"
    assert response.headers["X-Content-Type-Options"] == "nosniff"
    assert response.headers["Referrer-Policy"] == "no-referrer"
    assert "nginx/" not in response.headers.get("Server", "")


async def test_an_untrusted_client_cannot_choose_the_address_services_see(
    tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    # Loopback is not trusted here, so the test client is an ordinary visitor.
    async with echo_gateway(tmp_path / "nginx", trusted_proxies=["192.0.2.0/24"]) as nginx:
        forged = {"X-Forwarded-For": "203.0.113.9", "X-Real-IP": "203.0.113.9"}
        _, body = await get_json(client, "GET", f"{nginx.base_url}/api/orders", headers=forged)
    seen = body["headers"]
    assert (seen["X-Forwarded-For"], seen["X-Real-IP"]) == ("127.0.0.1", "127.0.0.1")


async def test_behind_a_trusted_balancer_services_see_the_address_it_saw(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    # Loopback is trusted by default: the balancer appended the address it saw (203.0.113.9);
    # what the client itself claimed before it (198.51.100.1) is not believed.
    for chain in ("198.51.100.1, 203.0.113.9", "198.51.100.1, 203.0.113.9, 127.0.0.1"):
        headers = {"X-Forwarded-For": chain}
        _, body = await get_json(client, "GET", f"{gateway.base_url}/api/orders", headers=headers)
        seen = body["headers"]
        assert (seen["X-Forwarded-For"], seen["X-Real-IP"]) == ("203.0.113.9", "203.0.113.9")


async def test_starts_a_trace_when_the_client_sends_none_or_garbage(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    for headers in ({}, {"traceparent": "not-a-trace"}):
        _, body = await get_json(client, "GET", f"{gateway.base_url}/api/orders/", headers=headers)
        trace = body["headers"]["traceparent"]
        assert trace != "not-a-trace"
        version, trace_id, span_id, flags = trace.split("-")
        assert (version, len(trace_id), len(span_id), flags) == ("00", 32, 16, "01")


async def test_healthz_is_answered_by_nginx(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    response, body = await get_json(client, "GET", f"{gateway.base_url}/healthz")
    assert response.status == 200
    assert body == {"status": "ok"}


async def test_no_answer_names_a_server_version(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    """Proxied answers, nginx's own and its errors say at most "nginx", never a version."""
    for method, path in (("GET", "/api/orders"), ("GET", "/healthz"), ("GET", "/nope")):
        response, _ = await get_json(client, method, gateway.base_url + path)
        server = response.headers.get("Server", "")
        assert server in ("", "nginx"), (path, server)
    async with client.get(gateway.base_url + "/api/orders", headers={"X": "y" * 40_000}) as r:
        assert r.status >= 400 and r.headers.get("Server", "") in ("", "nginx")


async def test_small_body_passes(gateway: NginxGateway, client: aiohttp.ClientSession) -> None:
    response, _ = await get_json(
        client, "POST", f"{gateway.base_url}/api/orders/checkout", data=b"x" * 60_000
    )
    assert response.status == 200


def test_render_refuses_missing_upstreams(tmp_path: Path) -> None:
    with pytest.raises(GatewayError, match="no upstream"):
        render_config(8080, {"catalog": "http://127.0.0.1:1"}, tmp_path)


def test_render_refuses_a_trusted_proxy_that_is_no_network(tmp_path: Path) -> None:
    upstreams = dict.fromkeys(SERVICES, "http://127.0.0.1:1")
    with pytest.raises(GatewayError, match="not a network"):
        render_config(8080, upstreams, tmp_path, trusted_proxies=["127.0.0.1; allow all"])


def test_the_trusted_proxies_setting() -> None:
    assert trusted_proxies_setting(None) == LOOPBACK  # make up: a local balancer may front it
    assert trusted_proxies_setting("") == ()  # nobody: every peer is the client
    assert trusted_proxies_setting(" 10.0.0.0/8, 192.0.2.1 ") == ("10.0.0.0/8", "192.0.2.1")
