"""The unsubscribe link of a marketing message (RFC 8058, RFC 2369): an https URL on the
public site holding a signed token that names the customer, the channel and the campaign.

The token is a JWT (HS256, ``UNSUBSCRIBE_SECRET``) with ``aud`` fixed to this use, so no
other token of the shop is ever accepted here; it carries ids only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, cast
from urllib.parse import urlencode
from uuid import UUID

import jwt

PATH = "/api/notifications/unsubscribe"
_AUDIENCE = "shop:unsubscribe"
_CHANNELS = ("email", "sms")


class BadUnsubscribeToken(Exception):
    """Forged, expired or malformed: nothing is unsubscribed, and nothing of it is quoted."""


@dataclass(frozen=True)
class Unsubscribe:
    customer_id: UUID
    channel: Literal["email", "sms"]
    campaign_id: UUID | None


def make_token(
    secret: str, target: Unsubscribe, *, days: float, now: datetime | None = None
) -> str:
    if not secret:
        raise ValueError("UNSUBSCRIBE_SECRET is not set")
    issued = now or datetime.now(UTC)
    claims = {
        "aud": _AUDIENCE,
        "sub": str(target.customer_id),
        "ch": target.channel,
        "cmp": str(target.campaign_id) if target.campaign_id else None,
        "iat": issued,
        "exp": issued + timedelta(days=days),
    }
    return jwt.encode(claims, secret, algorithm="HS256")


def read_token(secret: str, token: str) -> Unsubscribe:
    if not secret or len(token) > 1024:
        raise BadUnsubscribeToken
    try:
        claims = jwt.decode(token, secret, algorithms=["HS256"], audience=_AUDIENCE)
        channel = claims["ch"]
        if channel not in _CHANNELS:
            raise BadUnsubscribeToken
        campaign = claims.get("cmp")
        return Unsubscribe(
            customer_id=UUID(claims["sub"]),
            channel=cast(Literal["email", "sms"], channel),
            campaign_id=UUID(campaign) if campaign else None,
        )
    except (jwt.PyJWTError, KeyError, TypeError, ValueError):
        raise BadUnsubscribeToken from None


def unsubscribe_url(public_base_url: str, token: str) -> str:
    return f"{public_base_url.rstrip('/')}{PATH}?{urlencode({'token': token})}"


def list_unsubscribe_headers(url: str) -> dict[str, str]:
    """The two headers every marketing email carries (RFC 2369 and RFC 8058 one-click)."""
    return {"List-Unsubscribe": f"<{url}>", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
