"""The catalog describes a promotion (``GET {CATALOG_URL}/internal/promotions/{id}``): the
public facts a campaign's message quotes. Nothing about a person passes here."""

from __future__ import annotations

from typing import Literal
from uuid import UUID

from aiohttp import ClientError, ClientSession
from pydantic import ConfigDict, Field, ValidationError

from services.notifications.campaign_domain import PRODUCTS_SHOWN, PromotionFacts
from shared.auth import INTERNAL_TOKEN_HEADER

PromotionStatus = Literal["scheduled", "live", "ended", "cancelled"]


class PromotionNotFound(Exception):
    """The catalog knows no such promotion."""


class CatalogUnavailable(Exception):
    """The catalog did not answer, or not sensibly: try again later."""


class PromotionAnswer(PromotionFacts):
    model_config = ConfigDict(extra="ignore")
    id: UUID
    status: PromotionStatus
    products: list[dict[str, object]] = Field(default_factory=list)  # type: ignore[assignment]


async def fetch_promotion(
    http: ClientSession, catalog_url: str, internal_token: str, promotion_id: UUID
) -> tuple[PromotionStatus, PromotionFacts]:
    """The promotion's status and its facts (with at most ``PRODUCTS_SHOWN`` products)."""
    url = f"{catalog_url.rstrip('/')}/internal/promotions/{promotion_id}"
    try:
        async with http.get(url, headers={INTERNAL_TOKEN_HEADER: internal_token}) as resp:
            if resp.status == 404:
                raise PromotionNotFound
            if resp.status != 200:
                raise CatalogUnavailable(f"catalog answered {resp.status}")
            raw = await resp.read()
    except (ClientError, TimeoutError) as exc:
        raise CatalogUnavailable(type(exc).__name__) from None
    try:
        answer = PromotionAnswer.model_validate_json(raw)
        shown = answer.products[:PRODUCTS_SHOWN]
        facts = PromotionFacts.model_validate(
            {**answer.model_dump(exclude={"products"}), "products": shown}
        )
    except ValidationError:
        raise CatalogUnavailable("malformed promotion") from None
    return answer.status, facts
