"""HTTP caching of the public reads: a strong ETag, ``If-None-Match`` -> 304, Cache-Control.

The ETag is a digest of the exact JSON sent, so it changes with anything the answer shows:
a product's row version (every edit and stock move raises it), the language chosen, a
category's products. ``Vary: Accept-Language`` because the text depends on it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from aiohttp import web
from aiohttp.helpers import ETAG_ANY

from shared import jsontext

LIST_MAX_AGE_S = 30
PRODUCT_MAX_AGE_S = 300
CATEGORIES_MAX_AGE_S = 300
NO_STORE = {"Cache-Control": "no-store"}


def cached_json(
    request: web.Request, data: Any, *, max_age: int, lang: str | None = None
) -> web.Response:
    """``data`` as JSON with its ETag, or a bodiless 304 when the client holds it already."""
    body = jsontext.dump_bytes(data)
    etag = hashlib.sha256(body).hexdigest()[:32]
    headers = {
        "Cache-Control": f"public, max-age={max_age}",
        "Vary": "Accept-Language",
        "ETag": f'"{etag}"',
    }
    if lang is not None:
        headers["Content-Language"] = lang
    if _matches(request, etag):
        return web.Response(status=304, headers=headers)
    return web.Response(
        body=body, content_type="application/json", charset="utf-8", headers=headers
    )


def _matches(request: web.Request, etag: str) -> bool:
    """RFC 9110 13.1.2: If-None-Match compares weakly, so W/"x" matches "x" too."""
    held = request.if_none_match
    return bool(held) and any(tag.value in (etag, ETAG_ANY) for tag in held or ())
