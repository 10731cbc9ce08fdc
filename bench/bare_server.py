"""An aiohttp server with one handler and nothing else, for ``bench.floor``.

``POST /api/orders/echo`` reads a JSON body and answers a JSON document of about the size a
cart or checkout answer has: the least any service of ours does for a request.

    python -m bench.bare_server PORT

Also the parts of the benches that set a bare handler against the catalog service: how
either is served, and the ``__main__`` that serves one or runs the bench.
"""

from __future__ import annotations

import sys
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from aiohttp import web

from shared import eventloop

ANSWER = {"id": "0" * 36, "status": "placed", "order_ref": "SH-000000", "items": ["x" * 40] * 4}


async def echo(request: web.Request) -> web.Response:
    await request.json()
    return web.json_response(ANSWER)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def serve(app: web.Application | Awaitable[web.Application], port: int) -> None:
    """Serve ``app`` on ``port`` of the loopback, with no banner and no access log."""
    web.run_app(
        app,
        host="127.0.0.1",
        port=port,
        print=None,
        access_log=None,
        loop=eventloop.new_event_loop(),
    )


def serve_catalog(dsn: str, amqp_url: str, port: int, **settings: Any) -> None:
    """The real catalog service (warnings only, a throwaway signing key), ``settings`` on
    top of that."""
    from services.catalog.app import create_app
    from services.catalog.config import Settings
    from shared.auth import generate_signing_key_pem
    from shared.logging import configure_logging

    configured = Settings(
        database_url=dsn,
        amqp_url=amqp_url,
        http_port=port,
        jwt_public_key=generate_signing_key_pem()[1],
        log_level="WARNING",
        **settings,
    )
    configure_logging("catalog", "WARNING")
    serve(create_app(configured), port)


def serve_or_run(
    serve_bare: Callable[[str, int], None],
    run: Callable[[], Coroutine[Any, Any, object]],
    serve_service: Callable[[str, str, int], None] = serve_catalog,
) -> None:
    """A bare-against-service bench's ``__main__``: ``bare DSN PORT`` or ``service DSN
    AMQP_URL PORT`` serves (the bench's own subprocesses), no argument runs the bench."""
    args = sys.argv[1:]
    if args[:1] == ["bare"]:
        serve_bare(args[1], int(args[2]))
    elif args[:1] == ["service"]:
        serve_service(args[1], args[2], int(args[3]))
    else:
        eventloop.run(run())


def main() -> None:
    app = web.Application()
    app.router.add_post("/api/orders/echo", echo)
    app.router.add_get("/healthz", healthz)
    serve(app, int(sys.argv[1]))


if __name__ == "__main__":
    main()
