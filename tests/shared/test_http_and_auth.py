"""Problems, tokens, signatures and log redaction of the shared kit, seen from outside."""

from __future__ import annotations

import asyncio
import json
import time
from uuid import uuid4

import aiohttp
import asyncpg
import jwt
import pytest
from aiohttp import web
from pydantic import BaseModel, ConfigDict

from deploy.gateway import free_port
from shared.auth import (
    TOKEN_VERIFIER,
    TokenIssuer,
    TokenVerifier,
    auth_middleware,
    generate_signing_key_pem,
    require_customer,
    require_role,
)
from shared.http import Problem, json_response, problem_middleware, read_json, trace_middleware
from shared.logging import get_logger
from shared.service import running_app
from shared.signing import SignatureError, signed_headers, verify


class Greeting(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    count: int


@pytest.fixture
async def base_url(signing_keys):
    async def greet(request: web.Request) -> web.Response:
        body = await read_json(request, Greeting)
        return json_response({"ok": body.count})

    async def mine(request: web.Request) -> web.Response:
        return json_response({"customer": str(require_customer(request))})

    async def staff(request: web.Request) -> web.Response:
        require_role(request, "marketer")
        return json_response({"ok": True})

    async def crash(_request: web.Request) -> web.Response:
        raise RuntimeError("secret value aigul@example.kz")

    app = web.Application(
        middlewares=[trace_middleware, problem_middleware, auth_middleware],
        client_max_size=1024,
    )
    app[TOKEN_VERIFIER] = TokenVerifier(signing_keys[1])
    app.router.add_post("/greet", greet)
    app.router.add_get("/mine", mine)
    app.router.add_get("/staff", staff)
    app.router.add_get("/crash", crash)
    async with running_app(app) as url:
        yield url


async def call(method: str, url: str, **kwargs):
    async with aiohttp.ClientSession() as session, session.request(method, url, **kwargs) as r:
        return r.status, r.content_type, await r.text()


@pytest.mark.parametrize(
    ("kwargs", "status"),
    [
        ({"data": "{not json", "headers": {"Content-Type": "application/json"}}, 400),
        ({"json": {"name": "x", "count": "many"}}, 422),
        ({"json": {"name": "x", "count": 1, "iin": "900101300123"}}, 422),
        ({"json": ["a", "list"]}, 422),
        ({"data": "name=x", "headers": {"Content-Type": "text/plain"}}, 415),
        ({"json": {"name": "x" * 5000, "count": 1}}, 413),
    ],
)
async def test_bad_input_is_a_4xx_problem_that_does_not_echo_values(base_url, kwargs, status):
    got, content_type, text = await call("POST", f"{base_url}/greet", **kwargs)
    assert (got, content_type) == (status, "application/problem+json")
    problem = json.loads(text)
    assert problem["status"] == status and problem["title"]
    assert "900101300123" not in text and "many" not in text


async def test_unknown_path_and_method_are_problems(base_url):
    assert (await call("GET", f"{base_url}/nope"))[:2] == (404, "application/problem+json")
    assert (await call("DELETE", f"{base_url}/greet"))[:2] == (405, "application/problem+json")


async def test_a_crash_is_a_500_problem_and_its_log_carries_no_pd(base_url, captured_logs):
    status, content_type, text = await call("GET", f"{base_url}/crash")
    assert (status, content_type) == (500, "application/problem+json")
    assert "aigul" not in text
    logged = captured_logs.getvalue()
    assert "RuntimeError" in logged and "aigul@example.kz" not in logged


async def test_tokens_forged_expired_or_of_the_wrong_kind_are_refused(base_url, token_issuer):
    customer = uuid4()
    good = token_issuer.issue(customer, "customer")
    status, _, text = await call("GET", f"{base_url}/mine", headers=bearer(good))
    assert status == 200 and json.loads(text)["customer"] == str(customer)

    other_key = TokenIssuer(generate_signing_key_pem()[0])
    forged_staff = other_key.issue(customer, "staff", frozenset({"marketer"}))
    expired = TokenIssuer(token_issuer_key(token_issuer), ttl_s=-10).issue(customer, "customer")
    unsigned = jwt.encode({"sub": str(customer), "kind": "staff"}, key="", algorithm="none")
    for token in (forged_staff, expired, unsigned, "garbage"):
        status, content_type, _ = await call("GET", f"{base_url}/staff", headers=bearer(token))
        assert (status, content_type) == (401, "application/problem+json")

    assert (await call("GET", f"{base_url}/mine"))[0] == 401
    assert (await call("GET", f"{base_url}/staff", headers=bearer(good)))[0] == 403
    staff = token_issuer.issue(uuid4(), "staff", frozenset({"support"}))
    assert (await call("GET", f"{base_url}/staff", headers=bearer(staff)))[0] == 403
    assert (await call("GET", f"{base_url}/mine", headers=bearer(staff)))[0] == 403


def token_issuer_key(issuer: TokenIssuer) -> str:
    from cryptography.hazmat.primitives import serialization

    return issuer._key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def test_signatures_refuse_forgery_tampering_and_staleness():
    body = b'{"dispatch_id": "x", "status": "delivered"}'
    headers = signed_headers("s3cret", body)
    assert verify("s3cret", headers, body) == int(headers["X-Shop-Timestamp"])
    with pytest.raises(SignatureError):
        verify("other", headers, body)
    with pytest.raises(SignatureError):
        verify("s3cret", headers, body.replace(b"delivered", b"failed"))
    old = signed_headers("s3cret", body, now=time.time() - 3600)
    with pytest.raises(SignatureError, match="stale"):
        verify("s3cret", old, body)
    with pytest.raises(SignatureError, match="missing"):
        verify("s3cret", {}, body)


def test_log_lines_never_carry_pd(captured_logs):
    log = get_logger("test")
    log.info(
        "customer aigul@example.kz called from +7 701 123 45 67",
        email="aigul@example.kz",
        profile={"last_name": "Сейткали", "delivery_address": {"street": "Абая"}},
        order_id=str(uuid4()),
    )
    line = json.loads(captured_logs.getvalue().splitlines()[-1])
    text = json.dumps(line, ensure_ascii=False)
    for value in ("aigul", "701 123", "Сейткали", "Абая"):
        assert value not in text
    assert len(line["order_id"]) == 36 and line["timestamp"][:4].isdigit()


async def test_a_remembered_token_is_still_refused_once_it_expires(signing_keys):
    verifier = TokenVerifier(signing_keys[1])
    token = TokenIssuer(signing_keys[0], ttl_s=1).issue(uuid4(), "customer")
    first = verifier.verify(token)
    assert verifier.verify(token) == first  # answered from memory
    await asyncio.sleep(2.1)
    with pytest.raises(Problem) as refused:
        verifier.verify(token)
    assert refused.value.status == 401


async def test_an_unreachable_database_is_a_503_to_retry_and_a_bad_argument_still_a_500(
    servers, captured_logs
):
    """A server restarting (its port refusing) is the shop's moment, not the client's error
    nor a crash: 503 with Retry-After. A wrong argument type is our bug: still a 500."""
    closed_port = free_port()

    async def down(_request: web.Request) -> web.Response:
        await asyncpg.connect(f"postgresql://postgres@127.0.0.1:{closed_port}/postgres")
        raise AssertionError("nothing listens there")

    async def bad_argument(_request: web.Request) -> web.Response:
        conn = await asyncpg.connect(servers.pg_admin_dsn)
        try:
            await conn.fetchval("SELECT $1::int", "aigul@example.kz")
        finally:
            await conn.close()
        raise AssertionError("asyncpg refuses a str for an int")

    app = web.Application(middlewares=[problem_middleware])
    app.router.add_get("/down", down)
    app.router.add_get("/bad", bad_argument)
    async with running_app(app) as url, aiohttp.ClientSession() as session:
        async with session.get(f"{url}/down") as response:
            assert response.status == 503 and response.headers["Retry-After"] == "1"
            assert response.content_type == "application/problem+json"
            assert (await response.json())["title"] == "Service unavailable"
        async with session.get(f"{url}/bad") as response:
            assert response.status == 500
            assert "aigul" not in await response.text()
    assert "aigul@example.kz" not in captured_logs.getvalue()
