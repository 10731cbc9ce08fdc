"""Every contract path, through the real gateway, is answered by its service, never by nginx
(no redirect, no HTML page of nginx's, none of the gateway's own problems)."""

from __future__ import annotations

import uuid

import aiohttp
import pytest

from deploy.gateway import ERRORS
from tests.contract_paths import CONTRACT
from tests.e2e.stack import Stack

pytestmark = pytest.mark.asyncio(loop_scope="session")

GATEWAY_PROBLEMS = {problem.json() for problem in ERRORS.values()}
SERVICE_TYPES = {"application/json", "application/problem+json", "text/html"}


async def test_every_contract_path_is_answered_by_its_service(shop: Stack):
    not_the_service = []
    async with aiohttp.ClientSession() as session:
        for method, path, _ in CONTRACT:
            url = shop.gateway_url + path
            async with session.request(method, url, allow_redirects=False) as response:
                text = await response.text()
                # Only the account pages redirect (to their sign-in page), and they do it
                # themselves: an answer from nginx would say so in its body.
                redirect = 300 <= response.status < 400
                if (
                    (redirect and not path.startswith("/account/"))
                    or (not redirect and response.content_type not in SERVICE_TYPES)
                    or text in GATEWAY_PROBLEMS
                    or "nginx" in text.lower()
                ):
                    not_the_service.append((method, path, response.status, text[:80]))
    assert not_the_service == []


async def test_a_customer_lists_their_orders_at_the_path_without_a_slash(shop: Stack):
    token = shop.tokens.issue(uuid.uuid4(), "customer")
    async with aiohttp.ClientSession() as session:
        url = f"{shop.gateway_url}/api/orders"
        async with session.get(url, allow_redirects=False) as response:
            assert response.status == 401  # the service's answer: sign in first
            assert response.content_type == "application/problem+json"
        headers = {"Authorization": f"Bearer {token}"}
        async with session.get(url, headers=headers, allow_redirects=False) as response:
            assert response.status == 200
            assert await response.json() == {"items": [], "next_cursor": None}


async def test_the_catalogs_cache_validators_pass_the_gateway(shop: Stack):
    """nginx hands the catalog's ETag, Cache-Control and Vary to the client and the client's
    If-None-Match to the catalog: a shopper's second look at a product is a 304."""
    async with aiohttp.ClientSession() as session:
        url = f"{shop.gateway_url}/api/catalog/products"
        async with session.get(url, params={"q": "парацетамол"}) as response:
            assert response.status == 200
            assert response.headers["Cache-Control"] == "public, max-age=30"
            listing_etag = response.headers["ETag"]
            product_id = (await response.json())["items"][0]["id"]
        async with session.get(
            url, params={"q": "парацетамол"}, headers={"If-None-Match": listing_etag}
        ) as response:
            assert response.status == 304
        product_url = f"{url}/{product_id}"
        kazakh = {"Accept-Language": "kk-KZ,kk;q=0.9"}
        async with session.get(product_url, headers=kazakh) as response:
            assert response.status == 200
            assert response.headers["Cache-Control"] == "public, max-age=300"
            assert "Accept-Language" in response.headers["Vary"]
            assert (await response.json())["lang"] == "kk"
            etag = response.headers["ETag"]
        async with session.get(product_url, headers={**kazakh, "If-None-Match": etag}) as response:
            assert response.status == 304
            assert response.headers["ETag"] == etag
            assert await response.read() == b""


async def test_each_services_description_and_docs_page_pass_the_gateway(shop: Stack):
    """The public documents and docs pages are reachable through nginx; the internal
    document is not (the gateway never routes /internal/)."""
    async with aiohttp.ClientSession() as session:
        for service in ("catalog", "orders", "customers", "notifications"):
            async with session.get(f"{shop.gateway_url}/api/{service}/openapi.json") as response:
                assert response.status == 200, service
                document = await response.json()
            assert document["openapi"] == "3.1.0"
            assert document["paths"] and not any(
                p.startswith("/internal/") for p in document["paths"]
            )
            async with session.get(f"{shop.gateway_url}/api/{service}/docs") as response:
                assert response.status == 200 and response.content_type == "text/html", service
                assert "script-src 'self'" in response.headers["Content-Security-Policy"]
            script = f"{shop.gateway_url}/api/{service}/docs/swagger-ui-bundle.js"
            async with session.get(script) as response:
                assert response.status == 200, service
        async with session.get(f"{shop.gateway_url}/internal/openapi.json") as response:
            assert response.status == 404
