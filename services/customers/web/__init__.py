"""The account pages under /account/ (policy 4.2.1): server-rendered, ru/kk/en, no scripts."""

from __future__ import annotations

from pathlib import Path

import jinja2
from aiohttp import web

from ..handlers import SETTINGS
from .config import WebConfig
from .context import CONFIG, COOKIES, CSRF_KEY, MAIN_APP, TEMPLATES
from .middleware import pages_middleware
from .pages import add_page_routes
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


def add_routes(app: web.Application, config: WebConfig | None = None) -> web.Application:
    """Mount the pages on the customers app (after ``app[SETTINGS]`` is set)."""
    config = config or WebConfig()
    pages = web.Application(middlewares=[pages_middleware])
    pages[CONFIG] = config
    pages[COOKIES] = Cookies(config)
    pages[CSRF_KEY] = derive_csrf_key(app[SETTINGS].master_key_bytes())
    pages[TEMPLATES] = templates()
    pages[MAIN_APP] = app
    add_page_routes(pages.router)
    pages.router.add_static("/static/", HERE / "static")
    app.add_subapp(PREFIX, pages)
    return pages
