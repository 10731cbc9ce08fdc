"""One route table per service, from which the aiohttp routes are registered and the OpenAPI
3.1 description is built (apispec), so the two cannot drift.

An ``Operation`` says what a handler parses (its ``read_json`` body model, its
``query_model``), what it answers and who may call it. The problems every operation of a kind
can answer are added here, not in each row: a malformed header (400) anywhere, a body's
400/413/415/422, a query's 422, a path id's 404, a token's 401/403. Request and response
schemas are pydantic's own ``model_json_schema``; every JSON success names its ``response``
model (the service's ``answers.py``, shared shapes in ``shared/answers.py``), so schemathesis
checks the answer's fields; one without (which tests/<svc>/test_answers.py refuses) would be
described as a bare JSON object. Routes under ``/internal/`` go into a second document, served by
the service at ``/internal/openapi.json`` (the gateway never routes ``/internal/``); the
public one is ``/api/<service>/openapi.json`` with a Swagger UI page at ``/api/<service>/docs``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from aiohttp import web
from apispec import APISpec
from pydantic import BaseModel
from pydantic.json_schema import JsonSchemaMode, models_json_schema

from shared.api_docs import add_docs_routes
from shared.http import PROBLEM_JSON, Handler, json_response

Auth = Literal["public", "customer", "staff", "internal", "signed"]
INTERNAL_PREFIX = "/internal/"
_REF = "#/components/schemas/{model}"
_PATH_PARAM = re.compile(r"{(\w+)}")
_TITLES = {
    200: "OK",
    201: "Created",
    202: "Accepted",
    204: "No content",
    303: "See other",
    304: "Not modified",
    400: "Malformed request",
    401: "Not signed in, or the signature is wrong",
    403: "Not allowed",
    404: "Not found",
    409: "Conflict with the current state",
    413: "Body too large",
    415: "Unsupported media type or encoding",
    422: "Invalid request",
    423: "Blocked",
    428: "Precondition required",
    429: "Too many requests",
    502: "A party behind the service failed",
    503: "A party behind the service is unavailable",
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details; never quotes what the client sent.",
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "instance": {"type": "string", "description": "the matched route's template"},
    },
    "required": ["type", "title", "status"],
}
SECURITY_SCHEMES: dict[str, dict[str, Any]] = {
    "bearer": {"type": "http", "scheme": "bearer", "bearerFormat": "JWT (EdDSA)"},
    "internal": {"type": "apiKey", "in": "header", "name": "X-Internal-Token"},
}


@dataclass(frozen=True)
class Param:
    """A query parameter (or, ``where="header"``, a header) a handler reads itself."""

    name: str
    schema: Mapping[str, Any]
    required: bool = False
    description: str = ""
    where: Literal["query", "header"] = "query"


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    handler: Handler
    summary: str
    body: type[BaseModel] | None = None
    query: type[BaseModel] | None = None
    params: tuple[Param, ...] = ()
    auth: Auth = "public"
    roles: tuple[str, ...] = ()
    status: int = 200
    # Other successes answering the same body (a replayed checkout's 200 beside its 201).
    also: tuple[int, ...] = ()
    response: type[BaseModel] | None = None
    # The success's media type: JSON unless the handler answers a page, a chart, a script.
    content: str = "application/json"
    errors: tuple[int, ...] = ()
    path_schemas: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    # A body that is not a JSON model (a form): its requestBody content as it is.
    form: Mapping[str, Any] | None = None

    @property
    def internal(self) -> bool:
        return self.path.startswith(INTERNAL_PREFIX)

    def statuses(self) -> list[int]:
        """Every status the operation can answer: its own and those of its kind."""
        found = {self.status, 400, *self.also, *self.errors}
        if self.body is not None:
            found |= {413, 415, 422}
        if self.query is not None or self.params:
            found.add(422)
        if _PATH_PARAM.search(self.path):
            found.add(404)
        if self.auth in ("customer", "staff"):
            found |= {401, 403}
        elif self.auth == "internal":
            found.add(403)
        elif self.auth == "signed":
            found.add(401)
        return sorted(found)


def add_operations(router: web.UrlDispatcher, operations: Iterable[Operation]) -> None:
    """Register the table's handlers (a GET also answers HEAD, as ``add_get`` does)."""
    for op in operations:
        if op.method == "GET":
            router.add_get(op.path, op.handler)
        else:
            router.add_route(op.method, op.path, op.handler)


def build_document(
    title: str, operations: Sequence[Operation], *, internal: bool = False, version: str = "1"
) -> dict[str, Any]:
    """The OpenAPI 3.1 document of the public (or only the internal) operations."""
    chosen = [op for op in operations if op.internal == internal]
    spec = APISpec(title=title, version=version, openapi_version="3.1.0")
    for name, scheme in SECURITY_SCHEMES.items():
        spec.components.security_scheme(name, scheme)
    spec.components.schema("Problem", PROBLEM_SCHEMA)
    schemas = _model_schemas(chosen)
    for name in sorted(schemas):
        spec.components.schema(name, schemas[name])
    by_path: dict[str, dict[str, Any]] = {}
    for op in chosen:
        by_path.setdefault(op.path, {})[op.method.lower()] = _operation(op, schemas)
    for path, described in by_path.items():
        spec.path(path=path, operations=described)
    return spec.to_dict()


def _model_schemas(operations: Sequence[Operation]) -> dict[str, Any]:
    models: dict[str, type[BaseModel]] = {}
    for op in operations:
        for model in (op.body, op.query, op.response):
            if model is not None:
                known = models.setdefault(model.__name__, model)
                if known is not model:
                    raise ValueError(f"two models named {model.__name__} in one document")
    if not models:
        return {}
    pairs: list[tuple[type[BaseModel], JsonSchemaMode]] = [
        (model, "validation") for model in models.values()
    ]
    _, top = models_json_schema(pairs, ref_template=_REF)
    return dict(top.get("$defs", {}))


def _operation(op: Operation, schemas: Mapping[str, Any]) -> dict[str, Any]:
    described: dict[str, Any] = {
        "operationId": f"{op.handler.__module__.rsplit('.', 1)[-1]}.{op.handler.__name__}",
        "summary": op.summary,
        "responses": {str(code): _response(op, code) for code in op.statuses()},
    }
    if op.roles:
        described["description"] = "Staff roles: " + ", ".join(op.roles) + "."
        described["x-roles"] = list(op.roles)
    parameters = _path_parameters(op) + _query_parameters(op, schemas)
    if parameters:
        described["parameters"] = parameters
    if op.body is not None:
        described["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": {"$ref": _ref(op.body)}}},
        }
    elif op.form is not None:
        described["requestBody"] = {"required": True, "content": dict(op.form)}
    if op.auth in ("customer", "staff"):
        described["security"] = [{"bearer": []}]
    elif op.auth == "internal":
        described["security"] = [{"internal": []}]
    return described


def _ref(model: type[BaseModel]) -> str:
    return _REF.format(model=model.__name__)


def _response(op: Operation, code: int) -> dict[str, Any]:
    answer: dict[str, Any] = {"description": _TITLES.get(code, "Answer")}
    if code in (204, 303, 304):
        return answer
    if code != op.status and code not in op.also:
        problem = {"schema": {"$ref": "#/components/schemas/Problem"}}
        answer["content"] = {PROBLEM_JSON: problem}
        if op.content == "text/html":  # a page answers its refusals as a page
            answer["content"]["text/html"] = {"schema": {"type": "string"}}
    else:
        if op.response is not None:
            schema: dict[str, Any] = {"$ref": _ref(op.response)}
        elif op.content == "application/json":
            schema = {"type": "object"}
        else:
            schema = {"type": "string"}
        answer["content"] = {op.content: {"schema": schema}}
    return answer


def _path_parameters(op: Operation) -> list[dict[str, Any]]:
    return [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": dict(op.path_schemas.get(name, _guess_path_schema(name))),
        }
        for name in _PATH_PARAM.findall(op.path)
    ]


def _guess_path_schema(name: str) -> dict[str, Any]:
    if name == "id" or name.endswith("_id"):
        return {"type": "string", "format": "uuid"}
    return {"type": "string"}


def _query_parameters(op: Operation, schemas: Mapping[str, Any]) -> list[dict[str, Any]]:
    parameters = [
        {"name": p.name, "in": p.where, "required": p.required, "schema": dict(p.schema)}
        | ({"description": p.description} if p.description else {})
        for p in op.params
    ]
    if op.query is None:
        return parameters
    schema = schemas[op.query.__name__]
    required = set(schema.get("required", ()))
    for name, prop in schema.get("properties", {}).items():
        parameters.append(
            {"name": name, "in": "query", "required": name in required, "schema": _sent(prop)}
        )
    return parameters


def _sent(schema: Mapping[str, Any]) -> dict[str, Any]:
    """A query parameter's schema without pydantic's ``null`` branch (absent is null)."""
    kept = {key: value for key, value in schema.items() if not (key == "default" and value is None)}
    branches = [b for b in kept.get("anyOf", ()) if b != {"type": "null"}]
    if "anyOf" in kept and len(branches) == 1:
        del kept["anyOf"]
        kept.update(branches[0])
    elif "anyOf" in kept:
        kept["anyOf"] = branches
    return kept


def add_description_routes(
    router: web.UrlDispatcher, service: str, title: str, operations: Sequence[Operation]
) -> None:
    """``/api/<service>/openapi.json`` and its docs page, ``/internal/openapi.json``.

    Registered before the table, so that ``/api/orders/{order_id}`` does not take them.
    """
    public = build_document(title, operations)
    internal = build_document(f"{title} (internal)", operations, internal=True)

    async def public_document(_request: web.Request) -> web.Response:
        return json_response(public)

    async def internal_document(_request: web.Request) -> web.Response:
        return json_response(internal)

    router.add_get(f"/api/{service}/openapi.json", public_document)
    router.add_get("/internal/openapi.json", internal_document)
    add_docs_routes(router, f"/api/{service}")
