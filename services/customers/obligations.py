"""The question to orders, the authority on what still defers an erasure (Law 94-V art.
8(2)): ``GET {ORDERS_URL}/internal/customers/{id}/obligations``. Orders down, slow or
answering something else is ``None`` ("not known yet"), never "nothing open", so an erasure
is deferred with reason ``checking`` and asked again by the chore."""

from __future__ import annotations

from typing import Any
from uuid import UUID

import aiohttp
from aiohttp import web

from shared.auth import INTERNAL_TOKEN_HEADER
from shared.logging import get_logger
from shared.service import HTTP_CLIENT

from .keys import SETTINGS

log = get_logger("customers.obligations")
TIMEOUT_S = 3.0


async def open_obligations(app: web.Application, customer_id: UUID) -> list[dict[str, str]] | None:
    """``[{kind, order_ref, status}]`` still open, ``[]`` when none, None when unknown. With
    no orders service configured (a customers service alone) nothing can be open there."""
    settings = app[SETTINGS]
    if not settings.orders_url:
        return []
    url = f"{settings.orders_url.rstrip('/')}/internal/customers/{customer_id}/obligations"
    headers = {INTERNAL_TOKEN_HEADER: settings.internal_token.get_secret_value()}
    try:
        async with app[HTTP_CLIENT].get(
            url, headers=headers, timeout=aiohttp.ClientTimeout(total=TIMEOUT_S)
        ) as response:
            response.raise_for_status()
            data = await response.json()
    except (aiohttp.ClientError, TimeoutError, ValueError) as exc:
        log.warning("obligations unknown", error=type(exc).__name__)
        return None
    return _items(data)


def _items(data: Any) -> list[dict[str, str]] | None:
    items = data.get("open") if isinstance(data, dict) else None
    if not isinstance(items, list):
        return None
    out: list[dict[str, str]] = []
    for item in items:
        if not isinstance(item, dict) or item.get("kind") not in ("order", "refund"):
            return None
        out.append(
            {
                "kind": item["kind"],
                "order_ref": str(item["order_ref"]),
                "status": str(item["status"]),
            }
        )
    return out
