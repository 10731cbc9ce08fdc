"""A storefront visitor for end-to-end tests: one cookie jar, an optional bearer token."""

from __future__ import annotations

import json
from typing import Any

import aiohttp


class ApiClient:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base, self.token = session, base, ""

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """The status and the body: parsed JSON when the answer is JSON, else its text."""
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.request(
            method, self.base + path, headers=headers, **kwargs
        ) as response:
            text = await response.text()
            body = json.loads(text) if text and "json" in response.content_type else text
            return response.status, body
