"""An aiohttp server with one handler and nothing else, for ``bench.floor``.

``POST /api/orders/echo`` reads a JSON body and answers a JSON document of about the size a
cart or checkout answer has: the least any service of ours does for a request.

    python -m bench.bare_server PORT
"""

from __future__ import annotations

import sys

from aiohttp import web

ANSWER = {"id": "0" * 36, "status": "placed", "order_ref": "SH-000000", "items": ["x" * 40] * 4}


async def echo(request: web.Request) -> web.Response:
    await request.json()
    return web.json_response(ANSWER)


async def healthz(_request: web.Request) -> web.Response:
    return web.json_response({"status": "ok"})


def main() -> None:
    app = web.Application()
    app.router.add_post("/api/orders/echo", echo)
    app.router.add_get("/healthz", healthz)
    web.run_app(app, host="127.0.0.1", port=int(sys.argv[1]), access_log=None, print=None)


if __name__ == "__main__":
    main()
