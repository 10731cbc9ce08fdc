"""What every service's description test checks: the documents it serves describe exactly
the routes it registered, and schemathesis finds no 5xx and no answer outside them.

Schemathesis (v4) generates cases from the served document with hypothesis, derandomized
and a few examples per operation, and calls the live app (real database) from a thread.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Mapping
from typing import Any
from uuid import uuid4

import aiohttp
import hypothesis
import schemathesis
from aiohttp import web
from hypothesis import HealthCheck, given
from schemathesis import APIOperation, Case
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

# What the issue asks: no 5xx, and every answer within the document. (Schemathesis' checks
# that valid-looking data be accepted are left out: an opaque cursor or an unknown
# category looks valid to it and is rightly a 422.) Its own 5xx check is replaced by
# ``_no_server_error``: a 503 the operation documents (the party behind it away, as the
# other services are in these tests) is an answer, not a failure.
CHECKS = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
DESCRIPTION_ROUTES = {"/internal/openapi.json"}
EXAMPLES = 8

Headers = Callable[[APIOperation], Mapping[str, str]]


async def documents(http: aiohttp.ClientSession, url: str, service: str) -> list[dict[str, Any]]:
    found = []
    for path in (f"/api/{service}/openapi.json", "/internal/openapi.json"):
        async with http.get(url + path) as response:
            assert response.status == 200, path
            found.append(await response.json())
    return found


async def check_docs_page(http: aiohttp.ClientSession, url: str, service: str) -> None:
    """The docs page and its assets come from the service, under a CSP without inline code."""
    prefix = f"/api/{service}/docs"
    async with http.get(url + prefix) as response:
        assert response.status == 200 and response.content_type == "text/html"
        page = await response.text()
        csp = response.headers["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "script-src 'self'" in csp
    assert f'data-document="/api/{service}/openapi.json"' in page and "//" not in page.split(
        "<body>"
    )[0].replace("<!doctype", "")
    for asset in ("swagger-ui-bundle.js", "swagger-ui.css", "start.js"):
        async with http.get(f"{url}{prefix}/{asset}") as response:
            assert response.status == 200, asset
    async with http.get(f"{url}{prefix}/index.html") as response:
        assert response.status == 404


def registered(app: web.Application, service: str) -> set[tuple[str, str]]:
    """The app's API routes (GET stands for its HEAD), less the description's own."""
    own = DESCRIPTION_ROUTES | {f"/api/{service}/openapi.json"}
    docs = f"/api/{service}/docs"
    return {
        (route.method, route.resource.canonical)
        for route in app.router.routes()
        if route.resource is not None
        and route.method != "HEAD"
        and route.resource.canonical.startswith(("/api/", "/internal/"))
        and route.resource.canonical not in own
        and not route.resource.canonical.startswith(docs)
    }


def described(*docs: Mapping[str, Any]) -> set[tuple[str, str]]:
    return {
        (method.upper(), path)
        for doc in docs
        for path, operations in doc["paths"].items()
        for method in operations
    }


async def check_described(
    app: web.Application, http: aiohttp.ClientSession, url: str, service: str
) -> list[dict[str, Any]]:
    public, internal = await documents(http, url, service)
    await check_docs_page(http, url, service)
    assert public["openapi"] == internal["openapi"] == "3.1.0"
    assert all(not path.startswith("/internal/") for path in public["paths"])
    assert all(path.startswith("/internal/") for path in internal["paths"])
    assert described(public, internal) == registered(app, service)
    return [public, internal]


def fuzz(docs: list[dict[str, Any]], url: str, headers: Headers) -> list[str]:
    """Every operation of ``docs`` against ``url``; the failures, one line each."""
    failures: list[str] = []
    for doc in docs:
        schema = schemathesis.openapi.from_dict(doc)
        for result in schema.get_all_operations():
            operation = result.ok()
            failure = _fuzz_operation(operation, url, dict(headers(operation)))
            if failure:
                failures.append(f"{operation.method.upper()} {operation.path}: {failure}")
    return failures


def _fuzz_operation(operation: APIOperation, url: str, headers: dict[str, str]) -> str:
    @hypothesis.settings(
        max_examples=EXAMPLES,
        derandomize=True,
        database=None,
        deadline=None,
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )
    @given(case=operation.as_strategy())
    def run(case: Case) -> None:
        response = case.call_and_validate(base_url=url, headers=headers, checks=CHECKS, timeout=30)
        _no_server_error(operation, response.status_code)

    try:
        run()
    except (Exception, BaseExceptionGroup) as exc:
        return f"{type(exc).__name__}: {str(exc)[:2000]}"
    return ""


def _no_server_error(operation: APIOperation, status: int) -> None:
    documented = status == 503 and "503" in operation.definition.raw["responses"]
    assert status < 500 or documented, f"a {status}"


async def fuzz_live(docs: list[dict[str, Any]], url: str, headers: Headers) -> list[str]:
    return await asyncio.to_thread(fuzz, docs, url, headers)


def headers_for(issuer: Any, internal_token: str, customer_token: str = "") -> Headers:
    """Valid credentials for each operation: the internal token, a staff token with the
    roles it names (``x-roles``), or a customer's token (``customer_token``, a signed-in
    customer's, else one for a customer the service does not know)."""

    def headers(operation: APIOperation) -> dict[str, str]:
        if operation.path.startswith("/internal/"):
            return {"X-Internal-Token": internal_token}
        roles = operation.definition.raw.get("x-roles")
        if roles:
            token = issuer.issue(uuid4(), "staff", frozenset(roles))
        elif operation.definition.raw.get("security"):
            token = customer_token or issuer.issue(uuid4(), "customer")
        else:
            return {}
        return {"Authorization": f"Bearer {token}"}

    return headers


def unmodelled_json_successes(document: Mapping[str, Any]) -> list[str]:
    """The operations whose JSON success (200/201/202) has no ``$ref`` model schema."""
    missing = []
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            for code in ("200", "201", "202"):
                content = operation["responses"].get(code, {}).get("content", {})
                json = content.get("application/json")
                if json is not None and "$ref" not in json["schema"]:
                    missing.append(f"{method.upper()} {path} {code}")
    return missing


def answer_checker(*docs: Mapping[str, Any]) -> Callable[[str, str, int, Any], None]:
    """``check(method, template, status, body)``: the body is what the documents say that
    route answers with that status (jsonschema 2020-12, formats checked)."""
    import jsonschema

    components = {
        "schemas": {name: s for doc in docs for name, s in doc["components"]["schemas"].items()}
    }

    def check(method: str, path: str, status: int, body: Any) -> None:
        for doc in docs:
            if path in doc["paths"]:
                answer = doc["paths"][path][method.lower()]["responses"][str(status)]
                schema = answer["content"]["application/json"]["schema"]
                jsonschema.validate(
                    body,
                    {**schema, "components": components},
                    cls=jsonschema.Draft202012Validator,
                    format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER,
                )
                return
        raise AssertionError(f"{path} not described")

    return check
