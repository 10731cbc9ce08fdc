"""Every app key of the orders service, and nothing else (as aiohttp-demos' typedefs.py).

``shared.service`` keeps the pool, the broker connection and the HTTP client
(``PG_POOL``, ``AMQP``, ``HTTP_CLIENT``).
"""

from __future__ import annotations

from aiohttp import web

from .config import Settings

SETTINGS = web.AppKey("orders_settings", Settings)
