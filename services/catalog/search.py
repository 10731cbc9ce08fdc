"""The product search's rules, free of I/O: the query, the sort orders and their cursors.

Each sort is a keyset order on (sort key, id); the cursor is the last row's key and id, with
the sort's name and the match mode, as ``shared.paging`` encodes it. A cursor of another
sort or one that does not parse is a 422 problem. The relevance of a product to a query
depends on the product's own text only (not on what else is in the table), and the match
mode is decided on the first page and kept by the cursor, so paging stays stable under
inserts.

Match modes: ``exact`` (full text: Russian stems and the words as written) whenever some
product on sale matches so; only when none does, ``fuzzy`` (trigram word similarity and
substrings: typos, Kazakh word endings). A generic word such as "таблетки" is similar to a
third of a pharmacy's names; looking for it by similarity too would rank all of them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, model_validator

from services.catalog.domain import MAX_PRICE_TIYN, Slug, Text
from shared import paging
from shared.paging import BadCursor

Sort = Literal["relevance", "name", "price_asc", "price_desc", "newest"]
Mode = Literal["exact", "fuzzy"]
SortKey = float | str | int | datetime


class ProductQuery(BaseModel):
    """``GET /api/catalog/products``. Without ``q`` the default order is by name; with it,
    by relevance."""

    model_config = ConfigDict(extra="ignore", frozen=True)
    q: Annotated[Text, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    category: Slug | None = None
    min_price: int | None = Field(default=None, ge=0, le=MAX_PRICE_TIYN)
    max_price: int | None = Field(default=None, ge=0, le=MAX_PRICE_TIYN)
    in_stock: bool | None = None
    sort: Sort | None = None
    lang: Literal["ru", "kk"] | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=1000)] | None = None

    @model_validator(mode="after")
    def _sane(self) -> ProductQuery:
        if self.min_price is not None and self.max_price is not None:
            if self.min_price > self.max_price:
                raise ValueError("'min_price' must not be above 'max_price'")
        if self.sort == "relevance" and not self.q:
            raise ValueError("sort=relevance needs a query 'q'")
        return self

    @property
    def order(self) -> Sort:
        return self.sort or ("relevance" if self.q else "name")


def encode_cursor(sort: Sort, key: SortKey, product_id: UUID, mode: Mode = "exact") -> str:
    if isinstance(key, datetime):
        text = key.isoformat()
    elif isinstance(key, float):
        text = repr(key)  # round-trips exactly
    else:
        text = str(key)
    return paging.encode_cursor(sort, text, str(product_id), mode)


@dataclass(frozen=True)
class After:
    """Where the next page starts: after the row with this key and id, in this mode."""

    key: SortKey
    product_id: UUID
    mode: Mode


def decode_cursor(cursor: str, sort: Sort) -> After:
    """The cursor's row and mode; ``BadCursor`` unless it is one of ``sort``'s."""
    name, key, product_id, mode = paging.decode_cursor(cursor, 4)
    if name != sort or mode not in ("exact", "fuzzy"):
        raise BadCursor()
    try:
        return After(_parse_key(sort, key), UUID(product_id), mode)  # type: ignore[arg-type]
    except (ValueError, OverflowError):
        raise BadCursor() from None


def _parse_key(sort: Sort, text: str) -> SortKey:
    if sort == "relevance":
        value = float(text)
        if not math.isfinite(value):
            raise ValueError("not a rank")
        return value
    if sort in ("price_asc", "price_desc"):
        price = int(text)
        if not 0 <= price <= MAX_PRICE_TIYN:
            raise ValueError("not a price")
        return price
    if sort == "newest":
        moment = datetime.fromisoformat(text)
        if moment.tzinfo is None:
            raise ValueError("not an instant")
        return moment
    if "\x00" in text or len(text) > 200:
        raise ValueError("not a name")
    return text
