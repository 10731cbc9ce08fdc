"""The docs page of a service's public API: Swagger UI from the ``swagger-ui-bundle-v2``
package, served by the service itself (no CDN, works offline) under a strict CSP: no inline
script or style; the page's one script of ours reads the document's address off the page."""

from __future__ import annotations

from pathlib import Path

import swagger_ui_bundle
from aiohttp import web

ASSETS = Path(str(swagger_ui_bundle.swagger_ui_path))
SERVED = {
    "swagger-ui.css": "text/css",
    "swagger-ui-bundle.js": "text/javascript",
}
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)
HEADERS = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-cache",
}
START = """window.addEventListener("DOMContentLoaded", function () {
  var root = document.getElementById("swagger-ui");
  SwaggerUIBundle({ url: root.dataset.document, domNode: root, deepLinking: true });
});
"""
PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{title}</title>
<link rel="stylesheet" href="{prefix}/docs/swagger-ui.css">
<script src="{prefix}/docs/swagger-ui-bundle.js" defer></script>
<script src="{prefix}/docs/start.js" defer></script>
</head>
<body>
<div id="swagger-ui" data-document="{prefix}/openapi.json"></div>
</body>
</html>
"""


def add_docs_routes(router: web.UrlDispatcher, prefix: str) -> None:
    """``{prefix}/docs`` and its assets; the document is ``{prefix}/openapi.json``."""
    page = PAGE.format(title=f"{prefix} API", prefix=prefix)

    async def docs_page(_request: web.Request) -> web.Response:
        return web.Response(text=page, content_type="text/html", headers=HEADERS)

    async def start_script(_request: web.Request) -> web.Response:
        return web.Response(text=START, content_type="text/javascript", headers=HEADERS)

    async def asset(request: web.Request) -> web.StreamResponse:
        name = request.match_info["asset"]
        if name not in SERVED:
            raise web.HTTPNotFound()
        headers = {**HEADERS, "Content-Type": SERVED[name]}
        return web.FileResponse(ASSETS / name, headers=headers)

    router.add_get(f"{prefix}/docs", docs_page)
    router.add_get(f"{prefix}/docs/start.js", start_script)
    router.add_get(f"{prefix}/docs/{{asset}}", asset)
