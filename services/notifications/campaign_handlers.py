"""HTTP handlers of campaigns (role marketer): parse, call ``campaigns.Campaigns``, answer.

The staff page (``GET .../campaigns/{id}/page``) is static HTML with one script of ours: it
holds no data itself; the script asks the JSON routes with the marketer's own bearer token,
pasted into the page and kept in the tab's ``sessionStorage`` only (no cookie, so no CSRF to
guard against; a strict CSP allows no script but ours).
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal
from uuid import UUID

from aiohttp import web
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field

from services.notifications.campaigns import (
    CampaignNotFound,
    CampaignNotMovable,
    CampaignsNotConfigured,
    PromotionRefused,
)
from services.notifications.keys import CAMPAIGNS
from services.notifications.promotions import CatalogUnavailable, PromotionNotFound
from shared.auth import require_role
from shared.http import Handler, Problem, json_response, query_model, read_json

PREFIX = "/api/notifications/campaigns"
STATIC = Path(__file__).parent / "static"
ROLE = "marketer"
PAGE_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self';"
    " connect-src 'self'; img-src 'self'; form-action 'none'; frame-ancestors 'none';"
    " base-uri 'none'",
    "X-Frame-Options": "DENY",
    "Cache-Control": "no-store",
}


class NewCampaign(BaseModel):
    model_config = ConfigDict(extra="forbid")
    promotion_id: UUID
    channel: Literal["email", "sms"]
    scheduled_at: AwareDatetime | None = None


class Listing(BaseModel):
    model_config = ConfigDict(extra="forbid")
    limit: int = Field(default=50, ge=1, le=100)
    before: AwareDatetime | None = None


async def post_campaign(request: web.Request) -> web.Response:
    principal = require_role(request, ROLE)
    body = await read_json(request, NewCampaign)
    created = await request.app[CAMPAIGNS].create(
        body.promotion_id, body.channel, body.scheduled_at, principal.subject
    )
    return json_response(created, status=201)


async def list_campaigns(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    query = query_model(request, Listing)
    items = await request.app[CAMPAIGNS].list(query.limit, query.before)
    last: datetime | None = None
    if len(items) == query.limit:
        last = datetime.fromisoformat(items[-1]["created_at"])
    return json_response({"items": items, "next_before": last.isoformat() if last else None})


async def get_campaign(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    return json_response(await request.app[CAMPAIGNS].get(_campaign_id(request)))


async def pause_campaign(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    return json_response(await request.app[CAMPAIGNS].pause(_campaign_id(request)))


async def resume_campaign(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    return json_response(await request.app[CAMPAIGNS].resume(_campaign_id(request)))


async def campaign_page(request: web.Request) -> web.Response:
    _campaign_id(request)  # a page only for a well-formed id; the data comes with the token
    return _static("campaign.html", "text/html")


async def page_script(_request: web.Request) -> web.Response:
    return _static("campaign.js", "text/javascript")


async def page_style(_request: web.Request) -> web.Response:
    return _static("campaign.css", "text/css")


def _static(name: str, content_type: str) -> web.Response:
    return web.Response(
        body=(STATIC / name).read_bytes(),
        content_type=content_type,
        charset="utf-8",
        headers=PAGE_HEADERS,
    )


def _campaign_id(request: web.Request) -> UUID:
    try:
        return UUID(request.match_info["campaign_id"])
    except ValueError:
        raise Problem(404, "Campaign not found", "The campaign id must be a UUID.") from None


@web.middleware
async def campaign_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """The campaigns' refusals as problems (the problem middleware answers them)."""
    try:
        return await handler(request)
    except PromotionNotFound:
        raise Problem(422, "Unknown promotion", "The catalog has no such promotion.") from None
    except PromotionRefused as exc:
        raise Problem(
            409, "Promotion over", f"The promotion is {exc.status}; it cannot have a campaign."
        ) from None
    except CampaignsNotConfigured:
        raise Problem(
            503, "Campaigns not configured", "Email campaigns need UNSUBSCRIBE_SECRET set."
        ) from None
    except CatalogUnavailable:
        raise Problem(503, "Catalog unavailable", "Try again in a moment.") from None
    except CampaignNotFound:
        raise Problem(404, "Campaign not found", "There is no campaign with this id.") from None
    except CampaignNotMovable as exc:
        raise Problem(409, "Not possible now", f"The campaign is {exc.status}.") from None
