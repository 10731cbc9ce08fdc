"""The catalog's internal product look-up: prices and names are never taken from the client.
The price is the catalog's price of the moment, a live promotion's when there is one."""

from __future__ import annotations

from collections.abc import Collection
from uuid import UUID

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.auth import INTERNAL_TOKEN_HEADER
from shared.http import Problem
from shared.logging import get_logger

from .domain import CatalogProduct

log = get_logger("orders.catalog_client")


class _Price(BaseModel):
    model_config = ConfigDict(extra="ignore")
    amount: int = Field(ge=0)
    currency: str


class _Item(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: UUID
    sku: str
    name: str
    price: _Price
    regular_price: _Price | None = None
    promotion_id: UUID | None = None
    weight_g: int = Field(default=0, ge=0)

    def product(self) -> CatalogProduct:
        regular = self.regular_price
        return CatalogProduct(
            self.id,
            self.sku,
            self.name,
            self.price.amount,
            self.weight_g,
            regular_price=regular.amount if regular and regular.currency == "KZT" else None,
            promotion_id=self.promotion_id,
        )


class _Answer(BaseModel):
    model_config = ConfigDict(extra="ignore")
    items: list[_Item]


def _unavailable() -> Problem:
    return Problem(503, "Catalog unavailable", "Prices cannot be checked right now; try again.")


async def fetch_products(
    session: aiohttp.ClientSession, base_url: str, token: str, ids: Collection[UUID]
) -> dict[UUID, CatalogProduct]:
    """The catalog's data for ``ids``; unknown ids are absent from the answer."""
    if not ids:
        return {}
    url = f"{base_url.rstrip('/')}/internal/products"
    params = {"ids": ",".join(sorted(str(i) for i in ids))}
    try:
        async with session.get(
            url, params=params, headers={INTERNAL_TOKEN_HEADER: token}
        ) as response:
            if response.status != 200:
                log.warning("catalog answered an error", status=response.status)
                raise _unavailable()
            answer = _Answer.model_validate_json(await response.read())
    except (aiohttp.ClientError, TimeoutError):
        log.warning("catalog unreachable")
        raise _unavailable() from None
    except ValidationError:
        log.warning("catalog answer does not match its contract")
        raise _unavailable() from None
    return {
        item.id: item.product()
        for item in answer.items
        if item.id in ids and item.price.currency == "KZT"
    }
