"""The customers JSON API: thin handlers per resource (parse, call accounts / the PD gate,
answer), their one error mapping (``errors.py``) and the route table below."""

from __future__ import annotations

from aiohttp import web

from shared.openapi import add_description_routes, add_operations

from .routes import OPERATIONS


def add_routes(app: web.Application) -> None:
    add_description_routes(app.router, "customers", "Customers", OPERATIONS)
    add_operations(app.router, OPERATIONS)
