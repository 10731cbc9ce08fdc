"""The orders HTTP API: thin handlers per resource (parse, call, answer) and the route table."""

from __future__ import annotations

from aiohttp import web

from shared.openapi import add_description_routes, add_operations

from .routes import OPERATIONS


def add_routes(app: web.Application) -> None:
    add_description_routes(app.router, "orders", "Orders", OPERATIONS)
    add_operations(app.router, OPERATIONS)
