"""The storefront through the nginx gateway: its pages and assets, their headers (CSP,
caching), the bank's return path, and hits not counted when the browser asks."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from deploy.gateway import STOREFRONT, NginxGateway, find_nginx
from tests.deploy.echo import get_json

try:
    find_nginx()
except RuntimeError:  # pragma: no cover - depends on the machine
    pytest.skip("nginx is not installed (make deps)", allow_module_level=True)

SOME_ID = str(uuid.uuid4())
PAGES = {
    "/": "index.html",
    "/cart": "cart.html",
    "/orders": "orders.html",
    "/cookies": "cookies.html",
    f"/products/{SOME_ID}": "product.html",
    f"/orders/{SOME_ID}": "order.html",
    f"/account/orders/{SOME_ID}": "order.html",  # where the bank used to send payers back
}


async def test_every_page_is_its_file_with_a_strict_policy(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    for path, file in PAGES.items():
        async with client.get(gateway.base_url + path, allow_redirects=False) as response:
            assert response.status == 200, path
            assert await response.read() == (STOREFRONT / file).read_bytes(), path
            headers = response.headers
            assert headers["Content-Type"] == "text/html; charset=utf-8"
            csp = headers["Content-Security-Policy"]
            assert "script-src 'self'" in csp and "default-src 'none'" in csp
            assert "unsafe-inline" not in csp and "frame-ancestors 'none'" in csp
            assert headers["Cache-Control"] == "no-cache" and headers["ETag"]
            assert headers["X-Frame-Options"] == "DENY"
            assert headers["X-Content-Type-Options"] == "nosniff"
            assert headers["Referrer-Policy"] == "no-referrer"


async def test_assets_are_cached_and_typed(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    types = {
        "/assets/js/catalog.js": "text/javascript",
        "/assets/shop.css": "text/css",
        "/assets/i18n/kk.json": "application/json",
        "/assets/icon.svg": "image/svg+xml",
    }
    for path, kind in types.items():
        headers = {"Accept-Encoding": "gzip"}
        async with client.get(gateway.base_url + path, headers=headers) as response:
            assert response.status == 200, path
            assert response.content_type == kind, path
            assert response.headers["Content-Encoding"] == "gzip", path
            assert response.headers["Cache-Control"] == "public, max-age=3600"
            assert response.headers["X-Content-Type-Options"] == "nosniff"


@pytest.mark.parametrize(
    "path",
    ["/products/1", "/orders/nope", "/account/orders/x", "/assets/none.js", "/index.html",
     "/assets/../deploy/gateway.py", f"/orders/{SOME_ID}/x"],
)  # fmt: skip
async def test_anything_else_is_a_404_problem(
    gateway: NginxGateway, client: aiohttp.ClientSession, path: str
) -> None:
    response, body = await get_json(client, "GET", gateway.base_url + path)
    assert (response.status, body.get("title")) == (404, "Not Found"), path


@pytest.mark.parametrize("header", [{"DNT": "1"}, {"Sec-GPC": "1"}])
async def test_a_hit_of_a_browser_that_asks_not_to_be_tracked_goes_nowhere(
    gateway: NginxGateway, client: aiohttp.ClientSession, header: dict[str, str]
) -> None:
    url = gateway.base_url + "/api/stats/hits"
    async with client.post(url, json={"path": "/"}, headers=header) as response:
        assert response.status == 204 and await response.read() == b""
    response, body = await get_json(client, "POST", url, json={"path": "/"}, headers={"DNT": "0"})
    assert (response.status, body.get("service")) == (200, "catalog")  # counted otherwise
