"""Staff views of orders: support's list of orders needing attention, the analyst's
network statistics of checkouts (policy 5.6, aggregated, nothing about a person), and the
privacy officer's view of one automated decision an objection is about (Law 94-V art. 19-1)."""

from __future__ import annotations

import asyncpg
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field

from shared.auth import require_role
from shared.db import PG_POOL
from shared.http import Problem, json_response, query_model

from .. import storage
from ..documents import decision_item
from .common import path_uuid


class AttentionQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=100, ge=1, le=500)


class StatsQuery(BaseModel):
    model_config = ConfigDict(extra="ignore")
    days: int = Field(default=30, ge=1, le=366)


async def attention(request: web.Request) -> web.Response:
    """Dispatched orders the courier has not confirmed in time (role support)."""
    require_role(request, "support")
    query = query_model(request, AttentionQuery)
    pool: asyncpg.Pool = request.app[PG_POOL]
    async with pool.acquire() as conn:
        rows = await storage.orders_needing_attention(conn, query.limit)
    items = [
        {
            "id": str(row["id"]),
            "order_ref": row["order_ref"],
            "status": row["status"],
            "courier": row["courier"],
            "dispatch_id": str(row["dispatch_id"]) if row["dispatch_id"] else None,
            "dispatched_at": row["dispatched_at"].isoformat(),
            "needs_attention_since": row["needs_attention_at"].isoformat(),
            "reason": "courier_timeout",
        }
        for row in rows
    ]
    return json_response({"items": items})


async def network_stats(request: web.Request) -> web.Response:
    """Checkouts per network (/24, /48) per day, with city and region at most (role analyst)."""
    require_role(request, "analyst")
    query = query_model(request, StatsQuery)
    pool: asyncpg.Pool = request.app[PG_POOL]
    async with pool.acquire() as conn:
        rows = await storage.network_stats(conn, query.days)
    items = [
        {
            "day": row["day"].isoformat(),
            "network": str(row["network"]),
            "city": row["geo_city"] or None,
            "region": row["geo_region"] or None,
            "checkouts": row["checkouts"],
        }
        for row in rows
    ]
    return json_response({"items": items})


async def automated_decision(request: web.Request) -> web.Response:
    """One recorded velocity refusal, for the review of an objection (role privacy_officer):
    which limit, the count against it, when, whose. Nothing about the cart or the network."""
    require_role(request, "privacy_officer")
    decision_id = path_uuid(request, "decision_id")
    pool: asyncpg.Pool = request.app[PG_POOL]
    async with pool.acquire() as conn:
        row = await storage.get_decision(conn, decision_id)
    if row is None:
        raise Problem(404, "Not found", "No such decision.")
    return json_response(
        {**decision_item(row), "customer_id": str(row["customer_id"])},
        headers={"Cache-Control": "no-store"},
    )
