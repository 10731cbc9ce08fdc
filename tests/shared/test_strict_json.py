"""JSON bodies a hostile client sends: each is a 4xx problem that quotes nothing sent, and the
route's template (never the path sent) is the problem's ``instance``."""

from __future__ import annotations

import json
from typing import Any

import aiohttp
import pytest
from aiohttp import web
from pydantic import BaseModel, ConfigDict

from shared.http import Problem, json_response, problem_middleware, read_json, trace_middleware
from shared.service import running_app

MARK = "aigul.sentinel"  # in every hostile body: it must never come back


class Note(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str
    count: int = 0
    weight: float = 0.0
    extra: Any = None


@pytest.fixture(scope="module")
async def base_url():
    async def note(request: web.Request) -> web.Response:
        body = await read_json(request, Note)
        body.text.encode()  # as argon2 and asyncpg do with a password or a name
        return json_response({"count": body.count, "weight": body.weight})

    async def item(request: web.Request) -> web.Response:
        raise Problem(404, "Unknown item", "No such item.")

    app = web.Application(middlewares=[trace_middleware, problem_middleware])
    app.router.add_post("/notes", note)
    app.router.add_get("/items/{item_id}", item)
    async with running_app(app) as url:
        yield url


async def post(url: str, data: bytes, content_type: str = "application/json"):
    async with aiohttp.ClientSession() as session:
        async with session.post(url, data=data, headers={"Content-Type": content_type}) as r:
            return r.status, r.content_type, await r.text()


def deep(levels: int) -> bytes:
    return b'{"text": "' + MARK.encode() + b'", "extra": ' + b"[" * levels + b"]" * levels + b"}"


HOSTILE = {
    "nested 1000 deep": (deep(1000), 422),
    "nested 33 deep": (deep(33), 422),
    "UTF-16 with BOM": (json.dumps({"text": MARK}).encode("utf-16"), 400),
    "UTF-16 without BOM": (json.dumps({"text": MARK}).encode("utf-16-le"), 400),
    "UTF-8 BOM": (b"\xef\xbb\xbf" + json.dumps({"text": MARK}).encode(), 400),
    "invalid UTF-8": (b'{"text": "' + MARK.encode() + b'\xff\xfe"}', 400),
    "duplicate key": (f'{{"text": "{MARK}", "text": "other"}}'.encode(), 422),
    "duplicate nested key": (f'{{"text": "{MARK}", "extra": {{"a": 1, "a": 2}}}}'.encode(), 422),
    "lone surrogate": (f'{{"text": "{MARK}\\ud800"}}'.encode(), 422),
    "lone surrogate in a list": (f'{{"text": "{MARK}", "extra": [["\\udfff"]]}}'.encode(), 422),
    "lone surrogate as a key": (f'{{"text": "{MARK}", "extra": {{"\\ud800": 1}}}}'.encode(), 422),
    "NaN": (f'{{"text": "{MARK}", "weight": NaN}}'.encode(), 400),
    "Infinity": (f'{{"text": "{MARK}", "weight": -Infinity}}'.encode(), 400),
    "float overflow": (f'{{"text": "{MARK}", "weight": 1e400}}'.encode(), 422),
    "20-digit integer": (f'{{"text": "{MARK}", "count": {"9" * 20}}}'.encode(), 422),
    "5000-digit integer": (f'{{"text": "{MARK}", "count": {"9" * 5000}}}'.encode(), 422),
}


@pytest.mark.parametrize(("body", "status"), HOSTILE.values(), ids=HOSTILE.keys())
async def test_a_hostile_json_body_is_a_4xx_problem_that_quotes_nothing(base_url, body, status):
    got, content_type, text = await post(f"{base_url}/notes", body)
    assert (got, content_type) == (status, "application/problem+json"), text
    problem = json.loads(text)
    assert problem["status"] == status and problem["title"] and problem["detail"]
    assert problem["instance"] == "/notes"
    assert MARK not in text and "9999" not in text


async def test_a_charset_other_than_utf8_is_refused(base_url):
    body = json.dumps({"text": MARK}).encode("utf-16")
    got, content_type, text = await post(
        f"{base_url}/notes", body, "application/json; charset=utf-16"
    )
    assert (got, content_type) == (415, "application/problem+json") and MARK not in text


@pytest.mark.parametrize("coding", ["aigul", "gzip, gzip", "x-gzip", "compress"])
async def test_a_content_coding_aiohttp_does_not_decode_is_refused(base_url, coding):
    async with aiohttp.ClientSession() as session:
        async with session.post(
            f"{base_url}/notes",
            data=json.dumps({"text": MARK}).encode(),
            headers={"Content-Type": "application/json", "Content-Encoding": coding},
        ) as r:
            assert (r.status, r.content_type) == (415, "application/problem+json")
            assert MARK not in await r.text()


@pytest.mark.parametrize(
    "body",
    [
        deep(31),
        b'{"text": "smile \\ud83d\\ude00 and [brackets]{ in a string"}',
        json.dumps({"text": "Ерлан", "count": 2**53 - 1, "weight": -1.5e300}).encode(),
        b'{"text": "x", "count": -9007199254740991}',
        b'{"text": "x", "extra": {"a": {"a": 1}}}',  # the same key in two objects
        b'{"text": "x"}',
    ],
)
async def test_ordinary_json_is_still_accepted(base_url, body):
    got, _, text = await post(f"{base_url}/notes", body)
    assert got == 200, text


async def test_the_instance_is_the_route_template_never_the_path_sent(base_url):
    async with aiohttp.ClientSession() as session:
        async with session.get(f"{base_url}/items/aigul@example.kz") as r:
            problem = await r.json(content_type=None)
            assert (r.status, problem["instance"]) == (404, "/items/{item_id}")
        async with session.get(f"{base_url}/unrouted/aigul@example.kz") as r:
            text = await r.text()
            assert r.status == 404 and r.content_type == "application/problem+json"
            assert "aigul" not in text and "instance" not in json.loads(text)
