"""Catalog logic free of I/O: request models, cursors, reservation planning, beacon hygiene."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, Protocol
from urllib.parse import urlsplit
from uuid import UUID

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    model_validator,
)

from shared import paging
from shared.contracts import OrderLine
from shared.models import StrictBody
from shared.paging import BadCursor
from shared.text import plain_paragraphs, plain_text

MAX_PRICE_TIYN = 10**12
MAX_STOCK = 1_000_000_000
MAX_WEIGHT_G = 1_000_000
MAX_REPORT_DAYS = 366


def _clean_text(value: str) -> str:
    """PostgreSQL text takes no NUL and no lone surrogates: refuse them as bad input."""
    if "\x00" in value:
        raise ValueError("must not contain NUL characters")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError("must be valid Unicode text") from None
    return value


Text = Annotated[str, AfterValidator(_clean_text)]
# What goes onto pages and parcels follows the rule of all such text (shared.text).
Name = Annotated[
    Text,
    AfterValidator(plain_text),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=200),
]
Description = Annotated[Text, AfterValidator(plain_paragraphs), StringConstraints(max_length=5000)]
Sku = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$")]
Slug = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,63}$")]


class _Body(StrictBody):
    model_config = ConfigDict(strict=True)


class PriceIn(_Body):
    amount: int = Field(ge=0, le=MAX_PRICE_TIYN)
    currency: Literal["KZT"]


class CategoryIn(_Body):
    slug: Slug
    name: Name


class ProductIn(_Body):
    sku: Sku
    name: Name
    description: Description = ""
    category: Slug
    price: PriceIn
    weight_g: int = Field(ge=0, le=MAX_WEIGHT_G)
    stock: int = Field(default=0, ge=0, le=MAX_STOCK)


class ProductPatch(_Body):
    """Only the fields sent change; ``stock`` sets the units free to sell."""

    name: Name | None = None
    description: Description | None = None
    category: Slug | None = None
    price: PriceIn | None = None
    weight_g: int | None = Field(default=None, ge=0, le=MAX_WEIGHT_G)
    stock: int | None = Field(default=None, ge=0, le=MAX_STOCK)

    @model_validator(mode="after")
    def _some_non_null_field(self) -> ProductPatch:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        nulls = [name for name in self.model_fields_set if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"these fields cannot be null: {', '.join(sorted(nulls))}")
        return self

    def changes(self) -> dict[str, Any]:
        values = self.model_dump(exclude_unset=True)
        if "price" in values:
            values["price"] = values["price"]["amount"]
        return values


class ProductQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    q: Annotated[Text, StringConstraints(strip_whitespace=True, max_length=100)] = ""
    category: Slug | None = None
    limit: int = Field(default=20, ge=1, le=100)
    cursor: Annotated[str, StringConstraints(max_length=1000)] | None = None


class HitIn(_Body):
    path: Annotated[Text, StringConstraints(min_length=1, max_length=2000)]
    referrer: Annotated[Text, StringConstraints(max_length=2000)] | None = None


class ReportQuery(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)
    from_: date | None = Field(default=None, alias="from")
    to: date | None = None

    @model_validator(mode="after")
    def _ordered(self) -> ReportQuery:
        if self.from_ and self.to and self.from_ > self.to:
            raise ValueError("'from' must not be after 'to'")
        return self

    def window(self, today: date) -> tuple[date, date]:
        """The days to report, at most ``MAX_REPORT_DAYS``, ending today by default."""
        end = self.to or today
        start = self.from_ or date.fromordinal(end.toordinal() - 29)
        return max(start, date.fromordinal(end.toordinal() - MAX_REPORT_DAYS + 1)), end


# --- cursors ---------------------------------------------------------------------------


def encode_cursor(name: str, product_id: UUID) -> str:
    return paging.encode_cursor(name, str(product_id))


def decode_cursor(cursor: str) -> tuple[str, UUID]:
    """The (name, id) back; ``BadCursor`` (a 422 problem) when it is not one of ours."""
    name, product_id = paging.decode_cursor(cursor, 2)
    try:
        return _clean_text(name), UUID(product_id)
    except ValueError:
        raise BadCursor() from None


def like_pattern(text: str) -> str:
    """A LIKE pattern matching ``text`` anywhere, with the wildcards in it taken literally."""
    escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class Row(Protocol):
    """A database row as handlers see it (an asyncpg ``Record`` or a plain dict)."""

    def __getitem__(self, key: str, /) -> Any: ...


def product_view(row: Row) -> dict[str, Any]:
    return {
        "id": str(row["id"]),
        "sku": row["sku"],
        "name": row["name"],
        "description": row["description"],
        "category": row["category"],
        "price": {"amount": row["price"], "currency": "KZT"},
        "weight_g": row["weight_g"],
        "in_stock": row["stock"] > 0,
        "available": row["stock"],
    }


def internal_product_view(row: Row) -> dict[str, Any]:
    """What other services may see of a product: ``product_view`` without description and
    category (from the lean row of ``storage.get_internal_products``)."""
    return {
        "id": str(row["id"]),
        "sku": row["sku"],
        "name": row["name"],
        "price": {"amount": row["price"], "currency": "KZT"},
        "weight_g": row["weight_g"],
        "in_stock": row["stock"] > 0,
        "available": row["stock"],
    }


# --- reservations ----------------------------------------------------------------------


@dataclass(frozen=True)
class StockRow:
    product_id: UUID
    stock: int
    weight_g: int


@dataclass(frozen=True)
class ReservationPlan:
    """What to do with an order: reserve ``wanted`` or reject for ``reason``."""

    wanted: dict[UUID, int]
    reason: str | None
    problem_ids: tuple[UUID, ...]
    weight_g: int


def merge_lines(lines: Iterable[OrderLine]) -> dict[UUID, int]:
    """Quantities per product, with repeated products added up, in id order."""
    wanted: dict[UUID, int] = {}
    for line in lines:
        wanted[line.product_id] = wanted.get(line.product_id, 0) + line.quantity
    return dict(sorted(wanted.items()))


def plan_reservation(wanted: dict[UUID, int], stock: Mapping[UUID, StockRow]) -> ReservationPlan:
    if not wanted:
        return ReservationPlan(wanted, "empty_order", (), 0)
    unknown = tuple(pid for pid in wanted if pid not in stock)
    if unknown:
        return ReservationPlan(wanted, "unknown_product", unknown, 0)
    short = tuple(pid for pid, qty in wanted.items() if stock[pid].stock < qty)
    if short:
        return ReservationPlan(wanted, "insufficient_stock", short, 0)
    weight = sum(stock[pid].weight_g * qty for pid, qty in wanted.items())
    return ReservationPlan(wanted, None, (), weight)


# --- statistics beacon -----------------------------------------------------------------

_UUID = re.compile(r"^[0-9a-fA-F]{8}-?(?:[0-9a-fA-F]{4}-?){3}[0-9a-fA-F]{12}$")
_LONG_NUMBER = re.compile(r"\d{5,}")
_HOST = re.compile(r"^[a-z0-9.-]{1,253}$")
_PUBLIC_ID_PARENTS = frozenset({"products", "product", "categories", "category"})
MAX_PATH_LEN = 300


def normalise_path(raw: str) -> str | None:
    """The page path alone: no query, no fragment, and no segment that could name a person
    (an email, a long number such as a phone, an id other than a product's or category's)."""
    path = urlsplit(raw.strip()).path
    if not path.startswith("/"):
        return None
    segments = path.split("/")
    parents = ["", *segments[:-1]]
    kept = [
        _public_segment(segment, parent) for segment, parent in zip(segments, parents, strict=True)
    ]
    return "/".join(kept)[:MAX_PATH_LEN]


def _public_segment(segment: str, parent: str) -> str:
    if _UUID.match(segment):
        return segment if parent.lower() in _PUBLIC_ID_PARENTS else ":id"
    if "@" in segment or _LONG_NUMBER.search(segment):
        return ":redacted"
    return segment


def referrer_host(raw: str | None) -> str:
    """Only the site a visitor came from; the rest of a referrer may carry personal data."""
    if not raw:
        return ""
    try:
        parts = urlsplit(raw.strip())
        host = (parts.hostname or "").lower()
    except ValueError:
        return ""
    if parts.scheme not in ("http", "https") or not _HOST.match(host):
        return ""
    return host
