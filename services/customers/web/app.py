"""Mounting the account pages: their sub-app, its keys, middleware, routes and static files."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from ..keys import CONFIG, COOKIES, CSRF_KEY, MAIN_APP, PAGE_COOKIES, SETTINGS, TEMPLATES
from . import account, block_pages, delete_pages, entry
from .config import WebConfig
from .middleware import pages_middleware
from .security import Cookies, derive_csrf_key

HERE = Path(__file__).parent
PREFIX = "/account"


def templates() -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(HERE / "templates"),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def add_account_pages(app: web.Application, config: WebConfig | None = None) -> web.Application:
    """Mount the pages on the customers app (after ``app[SETTINGS]`` is set)."""
    config = config or WebConfig()
    pages = web.Application(middlewares=[pages_middleware])
    pages[CONFIG] = config
    pages[COOKIES] = Cookies(config)
    pages[CSRF_KEY] = derive_csrf_key(app[SETTINGS].master_key_bytes())
    pages[TEMPLATES] = templates()
    pages[MAIN_APP] = app
    app[PAGE_COOKIES] = pages[COOKIES]  # the API's logout ends the pages' session too
    entry.add_routes(pages.router)
    account.add_routes(pages.router)
    block_pages.add_routes(pages.router)
    delete_pages.add_routes(pages.router)
    pages.router.add_static("/static/", HERE / "static")
    app.add_subapp(PREFIX, pages)
    return pages
