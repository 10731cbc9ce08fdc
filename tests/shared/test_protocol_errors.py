"""Requests aiohttp itself refuses, before any middleware: answered as RFC 9457 problems that
quote nothing sent (not aiohttp's plain text), and logged without the bytes sent."""

from __future__ import annotations

import gzip
import json

import pytest
from aiohttp import web
from pydantic import BaseModel

from shared.http import json_response, problem_middleware, read_json, trace_middleware
from shared.service import running_app
from tests.rawhttp import MARK, hostile_requests, send_raw


class Note(BaseModel):
    note: str


@pytest.fixture(scope="module")
async def base_url():
    async def note(request: web.Request) -> web.Response:
        body = await read_json(request, Note)
        return json_response({"length": len(body.note)})

    app = web.Application(middlewares=[trace_middleware, problem_middleware])
    app.router.add_route("*", "/notes", note)
    async with running_app(app) as url:
        yield url


# Well-formed HTTP that only a route reading those headers refuses (the end-to-end battery
# sends them to such routes); /notes reads none.
FOR_ROUTES_READING_THEM = {
    "non-ASCII cookie",
    "non-ASCII signature",
    "signature timestamp of 400 digits",
}
REFUSED_HERE = {
    name: data
    for name, data in hostile_requests("/notes").items()
    if name not in FOR_ROUTES_READING_THEM
}


@pytest.mark.parametrize("data", REFUSED_HERE.values(), ids=REFUSED_HERE.keys())
async def test_what_aiohttp_refuses_is_a_problem_quoting_nothing(base_url, data, captured_logs):
    answer = await send_raw(base_url, data)
    assert 400 <= answer.status < 500 and answer.content_type == "application/problem+json"
    problem = answer.problem()
    assert problem["status"] == answer.status and problem["title"] and problem["detail"]
    assert MARK.encode() not in answer.body and b"Brotli" not in answer.body
    logged = captured_logs.getvalue()
    assert MARK not in logged and "Traceback" not in logged


async def test_an_unsupported_content_encoding_is_a_415(base_url):
    answer = await send_raw(base_url, hostile_requests("/notes")["Content-Encoding br"])
    assert (answer.status, answer.problem()["title"]) == (415, "Unsupported content encoding")


async def test_a_well_formed_gzip_body_is_still_read(base_url):
    body = gzip.compress(b'{"note": "twelve chars"}')
    data = (
        b"POST /notes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
        b"Content-Type: application/json\r\nContent-Encoding: gzip\r\n"
        b"Content-Length: %d\r\n\r\n" % len(body)
    ) + body
    answer = await send_raw(base_url, data)
    assert (answer.status, json.loads(answer.body)) == (200, {"length": 12})


async def test_no_answer_names_the_server_software_or_its_version(base_url):
    """Neither a handler's answer, nor a 404, nor a refusal of aiohttp's own says
    "Python/3.x aiohttp/3.x" (it tells an attacker which advisories to try)."""
    ok = b"POST /notes HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
    ok += b'Content-Type: application/json\r\nContent-Length: 12\r\n\r\n{"note": ""}'
    missing = b"GET /nowhere HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    for data in (ok, missing, *REFUSED_HERE.values()):
        answer = await send_raw(base_url, data)
        server = answer.headers.get("server", "")
        assert "aiohttp" not in server.lower() and "python" not in server.lower(), server
        assert not any(char.isdigit() for char in server), server
