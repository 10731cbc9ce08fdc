"""nginx's own errors are RFC 9457 problems that quote nothing the client sent."""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp
import pytest
from yarl import URL

from deploy.gateway import ERRORS, SERVICES, NginxGateway, find_nginx, free_port
from tests.deploy.echo import echo_gateway, get_json
from tests.rawhttp import MARK, RawAnswer, send_raw

PROBLEM = "application/problem+json"

try:
    find_nginx()
except RuntimeError:  # pragma: no cover - depends on the machine
    pytest.skip("nginx is not installed (make deps)", allow_module_level=True)


def assert_problem(status: int, content_type: str, body: bytes, expected: int) -> None:
    assert (status, content_type) == (expected, PROBLEM), body
    problem = json.loads(body)
    assert problem["status"] == expected and problem["type"] == "about:blank"
    assert problem["title"] and problem["detail"]
    text = body.decode()
    assert MARK not in text and "nginx" not in text.lower()


GET = "GET /api/orders/cart HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n"
MALFORMED: dict[str, tuple[bytes, int]] = {
    "header too large": ((GET + f"X-Note: {MARK * 1000}\r\n\r\n").encode(), 431),
    "cookies too large": ((GET + f"Cookie: a={MARK * 1000}\r\n\r\n").encode(), 431),
    "malformed request line": (f"GET /api/orders/{MARK} HTTP/1.1 x\r\n\r\n".encode(), 400),
    "TLS to the HTTP port": (b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + MARK.encode(), 400),
    "unknown HTTP version": (f"GET /api/orders/{MARK} HTTP/7.1\r\n\r\n".encode(), 400),
    "URI too long": (f"GET /api/orders/{MARK * 1000} HTTP/1.1\r\n\r\n".encode(), 414),
    "TRACE": (f"TRACE /api/orders/{MARK} HTTP/1.1\r\nHost: shop.test\r\n\r\n".encode(), 405),
    "unknown Transfer-Encoding": (
        (GET.replace("GET", "POST") + f"Transfer-Encoding: {MARK}\r\n\r\n").encode(),
        400,
    ),
    "no Host in HTTP/1.1": (f"GET /api/orders/{MARK} HTTP/1.1\r\n\r\n".encode(), 400),
}


@pytest.mark.parametrize(("data", "status"), MALFORMED.values(), ids=MALFORMED.keys())
async def test_malformed_requests_are_problems(
    gateway: NginxGateway, data: bytes, status: int
) -> None:
    answer: RawAnswer = await send_raw(gateway.base_url, data)
    assert_problem(answer.status, answer.content_type, answer.body, status)


@pytest.mark.parametrize(
    "path",
    [
        "/internal/products?ids=1",
        "/internal/",
        "/internal",
        "/api/catalog/../../internal/products",
        "/metrics",
        "/metrics?name=x",
        "/api/orders/../../metrics",
        "/_gateway/problems/400",
        f"/nope/{MARK}",
        "/api",
    ],
)
async def test_internal_and_unknown_paths_are_404_problems(
    gateway: NginxGateway, client: aiohttp.ClientSession, path: str
) -> None:
    url = URL(gateway.base_url + path, encoded=True)
    async with client.get(url, allow_redirects=False) as response:
        assert_problem(response.status, response.content_type, await response.read(), 404)
        assert response.headers["X-Content-Type-Options"] == "nosniff"


async def test_large_body_is_a_413_problem(
    gateway: NginxGateway, client: aiohttp.ClientSession
) -> None:
    url = f"{gateway.base_url}/api/orders/checkout"
    async with client.post(url, data=MARK.encode() * 10_000) as response:
        assert_problem(response.status, response.content_type, await response.read(), 413)


async def test_dead_upstream_is_a_502_problem(
    tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    upstreams = dict.fromkeys(SERVICES, f"http://127.0.0.1:{free_port()}")
    async with NginxGateway(free_port(), upstreams, tmp_path / "nginx") as base_url:
        async with client.get(f"{base_url}/api/orders/{MARK}") as response:
            assert_problem(response.status, response.content_type, await response.read(), 502)


async def test_upstream_too_slow_is_a_504_problem(
    tmp_path: Path, client: aiohttp.ClientSession
) -> None:
    async with echo_gateway(tmp_path / "nginx", read_timeout="1s") as nginx:
        async with client.get(f"{nginx.base_url}/api/orders/slow") as response:
            assert_problem(response.status, response.content_type, await response.read(), 504)
        response, _ = await get_json(client, "GET", f"{nginx.base_url}/api/orders/fast")
        assert response.status == 200  # the timeout is for the slow one only


def test_every_problem_is_json_that_fits_an_nginx_string() -> None:
    for status, problem in ERRORS.items():
        text = problem.json()
        assert "'" not in text and "$" not in text, status  # nginx: quote, variable
        assert json.loads(text)["status"] == problem.status
    # The client's faults nginx answers with 494, 501 and 505 are 4xx problems.
    assert [ERRORS[status].status for status in (494, 501, 505)] == [431, 400, 400]
