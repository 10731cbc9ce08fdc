"""What the gateway's logs keep of a request: its shape, nothing about the person."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from deploy.gateway import SERVICES, NginxGateway, find_nginx, free_port
from tests.contract_paths import ID
from tests.deploy.echo import echo_gateway
from tests.rawhttp import send_raw

try:
    find_nginx()
except RuntimeError:  # pragma: no cover - depends on the machine
    pytest.skip("nginx is not installed (make deps)", allow_module_level=True)

EMAIL, PHONE = "ivan.petrov@example.kz", "77011234567"
# Personal data as path segments (raw, percent-escaped, in routed and unrouted paths).
PERSONAL_PATHS = [
    f"/api/orders/{EMAIL}",
    "/api/orders/ivan.petrov%40example.kz/cancel",
    f"/api/customers/+{PHONE}",
    f"/api/customers/%2B{PHONE}",
    f"/api/orders/8{PHONE[1:]}",
    "/api/customers/%D0%98%D0%B2%D0%B0%D0%BD",  # a name in Cyrillic
    f"/api/customers/me?phone=%2B{PHONE}&email={EMAIL}",
    f"/nope/{EMAIL}",
    f"/internal/{EMAIL}",
]
LEAKS = ("ivan", "petrov", "example", PHONE[1:8], "@", "%", "?")


def assert_no_personal_data(text: str) -> None:
    for leak in LEAKS:
        assert leak not in text.lower(), leak


async def send_all(client: aiohttp.ClientSession, base_url: str, paths: list[str]) -> None:
    for path in paths:
        async with client.get(URL(base_url + path, encoded=True), allow_redirects=False) as r:
            await r.read()


async def test_access_log_masks_personal_data_in_paths(
    tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    async with echo_gateway(tmp_path / "nginx") as nginx:
        await send_all(
            client, nginx.base_url, [*PERSONAL_PATHS, "/api/orders/cart", f"/api/orders/{ID}"]
        )
        line = f"TRACE /api/orders/{EMAIL} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        assert (await send_raw(nginx.base_url, line.encode())).status == 405
        long_uri = f"GET /api/orders/{EMAIL * 500} HTTP/1.1\r\nHost: x\r\n\r\n"
        assert (await send_raw(nginx.base_url, long_uri.encode())).status == 414
        invented = "IVANPETROV /api/orders/cart HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
        await send_raw(nginx.base_url, invented.encode())  # a method that spells a name
    # Stopped: every line is written.
    text = nginx.access_log.read_text()
    assert_no_personal_data(text)
    paths = {json.loads(line)["path"] for line in text.splitlines()}
    assert {
        "/api/orders/{x}",
        "/api/orders/{x}/cancel",
        "/api/customers/{x}",
        "/api/customers/me",
        "/nope/{x}",
        "/internal/{x}",
        "/api/orders/cart",
        "/api/orders/{id}",
    } <= paths
    methods = {json.loads(line)["method"] for line in text.splitlines()}
    assert methods == {"GET", "TRACE", "other"}


async def test_error_log_keeps_no_request_line(
    tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    # A service down: nginx's error-level line would quote the request line and the client.
    upstreams = dict.fromkeys(SERVICES, f"http://127.0.0.1:{free_port()}")
    nginx = NginxGateway(free_port(), upstreams, tmp_path / "nginx")
    async with nginx:
        await send_all(client, nginx.base_url, PERSONAL_PATHS)
        await send_raw(nginx.base_url, f"GET /{EMAIL} HTTP/1.1 x\r\n\r\n".encode())
    text = nginx.error_log.read_text(errors="replace") + nginx.access_log.read_text()
    assert '"status":502' in text  # the requests did reach nginx
    assert_no_personal_data(text)
    assert "127.0.0.1" not in nginx.error_log.read_text(errors="replace")  # no client address


async def test_access_log_has_no_query_string_nor_secrets(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    headers = {"Authorization": "Bearer s3cr3t-token", "Cookie": "cart_id=c00k1e"}
    url = f"{gateway.base_url}/api/catalog/products?q=alice%40example.com"
    async with client.get(url, headers=headers) as response:
        await response.read()
    async with client.post(f"{gateway.base_url}/nope?email=bob%40example.com", data=b"x") as r:
        await r.read()
    await gateway.stop()  # every line written
    text = gateway.access_log.read_text()
    lines = [json.loads(line) for line in text.splitlines()]
    assert {(line["method"], line["path"], line["status"]) for line in lines} >= {
        ("GET", "/api/catalog/products", 200),
        ("POST", "/nope", 404),
    }
    for secret in ("?", "example", "s3cr3t", "c00k1e"):
        assert secret not in text
    assert all("remote" not in line for line in lines)  # no client address either
