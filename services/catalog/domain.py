"""Catalog logic free of I/O: request models, views, reservation planning, beacon hygiene."""

from __future__ import annotations

import hashlib
import itertools
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

from shared.contracts import OrderLine
from shared.models import StrictBody
from shared.network import coarse_place
from shared.text import plain_paragraphs, plain_text

MAX_PRICE_TIYN = 10**12
MAX_STOCK = 1_000_000_000
MAX_WEIGHT_G = 1_000_000
MAX_REPORT_DAYS = 366
# What a statistics chart shows: hits and visitors per day, or the top values of a section.
Dimension = Literal["days", "pages", "products", "referrers", "cities", "regions", "browsers", "os"]


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
    name_kk: Name | None = None
    # The parent category's slug; a new category goes under an existing one (so the tree
    # can have no cycle).
    parent: Slug | None = None


def _https_url(value: str) -> str:
    """An image address the storefront may load: https, a host, no credentials."""
    try:
        parts = urlsplit(value)
        port = parts.port
    except ValueError:
        raise ValueError("must be an https URL") from None
    if parts.scheme != "https" or not parts.hostname or parts.username or parts.password:
        raise ValueError("must be an https URL with a host and no credentials")
    if port == 0 or any(ch.isspace() or ord(ch) < 0x21 or ord(ch) == 0x7F for ch in value):
        raise ValueError("must be an https URL")
    return value


ImageUrl = Annotated[Text, StringConstraints(max_length=500), AfterValidator(_https_url)]
Form = Literal[
    "tablets", "capsules", "syrup", "suspension", "solution", "drops", "spray", "powder",
    "lozenges", "cream", "ointment", "gel", "patch", "device", "other",
]  # fmt: skip
Dosage = Annotated[
    Text, AfterValidator(plain_text), StringConstraints(strip_whitespace=True, max_length=50)
]
MAX_IMAGES = 10
MAX_PACK_SIZE = 10_000


class Attributes(_Body):
    """What a pharmacy customer filters and reads by; ``prescription_only`` products are
    shown but dispensed against a prescription."""

    form: Form | None = None
    dosage: Dosage | None = None
    pack_size: int | None = Field(default=None, ge=1, le=MAX_PACK_SIZE)
    prescription_only: bool = False


class ProductIn(_Body):
    sku: Sku
    name: Name
    name_kk: Name | None = None
    description: Description = ""
    description_kk: Description | None = None
    category: Slug
    price: PriceIn
    weight_g: int = Field(ge=0, le=MAX_WEIGHT_G)
    stock: int = Field(default=0, ge=0, le=MAX_STOCK)
    images: list[ImageUrl] = Field(default_factory=list, max_length=MAX_IMAGES)
    attributes: Attributes = Field(default_factory=Attributes)
    low_stock_threshold: int | None = Field(default=None, ge=0, le=MAX_STOCK)


_CLEARABLE = frozenset({"name_kk", "description_kk"})


class ProductPatch(_Body):
    """Only the fields sent change; ``stock`` sets the units free to sell; ``name_kk`` and
    ``description_kk`` may be null (no Kazakh text: the Russian is shown)."""

    name: Name | None = None
    name_kk: Name | None = None
    description: Description | None = None
    description_kk: Description | None = None
    category: Slug | None = None
    price: PriceIn | None = None
    weight_g: int | None = Field(default=None, ge=0, le=MAX_WEIGHT_G)
    stock: int | None = Field(default=None, ge=0, le=MAX_STOCK)
    images: list[ImageUrl] | None = Field(default=None, max_length=MAX_IMAGES)
    attributes: Attributes | None = None
    low_stock_threshold: int | None = Field(default=None, ge=0, le=MAX_STOCK)

    @model_validator(mode="after")
    def _some_non_null_field(self) -> ProductPatch:
        if not self.model_fields_set:
            raise ValueError("send at least one field to change")
        nulls = [name for name in self.model_fields_set - _CLEARABLE if getattr(self, name) is None]
        if nulls:
            raise ValueError(f"these fields cannot be null: {', '.join(sorted(nulls))}")
        return self

    def changes(self) -> dict[str, Any]:
        """Column -> value (``category`` stays a slug, ``attributes`` become columns)."""
        values = self.model_dump(exclude_unset=True)
        if "price" in values:
            values["price"] = values["price"]["amount"]
        if "images" in values:
            values["image_urls"] = values.pop("images")
        if "attributes" in values:
            values.update(values.pop("attributes"))
        return values


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


class ChartQuery(ReportQuery):
    dimension: Dimension = "days"


class Row(Protocol):
    """A database row as handlers see it (an asyncpg ``Record`` or a plain dict)."""

    def __getitem__(self, key: str, /) -> Any: ...


def product_view(row: Row, lang: str = "ru") -> dict[str, Any]:
    """A product as the storefront shows it, its text in ``lang`` where it has that text
    (else Russian; ``lang`` says which)."""
    kazakh = lang == "kk" and row["name_kk"] is not None
    return {
        "id": str(row["id"]),
        "sku": row["sku"],
        "name": row["name_kk"] if kazakh else row["name"],
        "description": row["description_kk"]
        if kazakh and row["description_kk"]
        else row["description"],
        "lang": "kk" if kazakh else "ru",
        "category": row["category"],
        "price": {"amount": row["price"], "currency": "KZT"},
        "weight_g": row["weight_g"],
        "in_stock": row["stock"] > 0 and row["archived_at"] is None,
        "available": row["stock"] if row["archived_at"] is None else 0,
        "images": list(row["image_urls"]),
        "attributes": {
            "form": row["form"],
            "dosage": row["dosage"],
            "pack_size": row["pack_size"],
            "prescription_only": row["prescription_only"],
        },
        "archived": row["archived_at"] is not None,
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


def product_of(path: str) -> UUID | None:
    """The product a page shows: the UUID after a ``products``/``product`` segment."""
    segments = path.split("/")
    for parent, segment in itertools.pairwise(segments):
        if parent.lower() in ("products", "product") and _UUID.match(segment):
            return UUID(segment)
    return None


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


# A browser or system family as ua-parser names it; some of its rules copy a word of the
# User-Agent into the family (a bot's name), so anything unlike a product name is "Other".
_FAMILY = re.compile(r"^[A-Za-z][A-Za-z0-9 ._-]{0,39}$")
OTHER = "Other"
# A district in parentheses ("Almaty (Almaly Audany)") is finer than a city.
_DISTRICT = re.compile(r"\s*\(.*\)\s*$")


def family(name: str | None) -> str:
    if not name:
        return OTHER
    return name if _FAMILY.match(name) and not _LONG_NUMBER.search(name) else OTHER


def _name(entry: Any) -> str:
    names = entry.get("names") if isinstance(entry, dict) else None
    value = names.get("en") if isinstance(names, dict) else None
    return value if isinstance(value, str) else ""


def place_of(record: Any) -> tuple[str, str]:
    """(city, region) of a MaxMind-format City record; '' for what it does not say. The
    city without a district, the region being the first subdivision: never finer."""
    if not isinstance(record, dict):
        return "", ""
    subdivisions = record.get("subdivisions")
    first = subdivisions[0] if isinstance(subdivisions, list) and subdivisions else None
    city = _DISTRICT.sub("", _name(record.get("city")))
    return coarse_place(city), coarse_place(_name(first))


def opted_out(headers: Mapping[str, str]) -> bool:
    """The visitor asked not to be tracked (Do Not Track, Global Privacy Control)."""
    return headers.get("DNT", "").strip() == "1" or headers.get("Sec-GPC", "").strip() == "1"


def visitor_hash(salt: bytes, network: str, user_agent: str) -> bytes:
    """One visitor of one day: their network (already cut to /24 or /48) and browser under
    the day's random salt, which is destroyed with the day's hashes at the roll-up."""
    data = f"{network}\n{user_agent}".encode("utf-8", "replace")
    return hashlib.blake2b(data, key=salt, digest_size=16).digest()


# --- statistics reports ----------------------------------------------------------------

# Report section -> the dimension of the daily counters it shows.
SECTIONS: dict[str, str] = {
    "pages": "page",
    "products": "product",
    "referrers": "referrer",
    "cities": "city",
    "regions": "region",
    "browsers": "browser",
    "os": "os",
}
_VALUE_KEY = {
    "page": "path",
    "product": "product_id",
    "referrer": "host",
    "city": "city",
    "region": "region",
    "browser": "browser",
    "os": "os",
}


@dataclass(frozen=True)
class Counter:
    """The hits of one value of one dimension on one day (detail: a city's region)."""

    day: date
    dimension: str
    value: str
    detail: str
    hits: int


@dataclass(frozen=True)
class DayTotal:
    day: date
    hits: int
    visitors: int | None  # None: left out of an export (fewer than k)


def counter_item(counter: Counter, names: Mapping[str, str]) -> dict[str, Any]:
    item: dict[str, Any] = {"day": counter.day.isoformat()}
    item[_VALUE_KEY[counter.dimension]] = counter.value
    if counter.dimension == "city":
        item["region"] = counter.detail
    if counter.dimension == "product":
        item["name"] = names.get(counter.value, "")
    item["hits"] = counter.hits
    return item


def report_document(
    days: Iterable[DayTotal], counters: Iterable[Counter], names: Mapping[str, str]
) -> dict[str, Any]:
    """The report's sections: ``days`` (hits, visitors) and one list per dimension."""
    document: dict[str, Any] = {
        "days": [{"day": d.day.isoformat(), "hits": d.hits, "visitors": d.visitors} for d in days],
        **{section: [] for section in SECTIONS},
    }
    by_dimension = {dimension: section for section, dimension in SECTIONS.items()}
    for counter in counters:
        document[by_dimension[counter.dimension]].append(counter_item(counter, names))
    return document


def suppressed(
    days: Iterable[DayTotal], counters: Iterable[Counter], k: int
) -> tuple[list[DayTotal], list[Counter], int]:
    """What a third party may see (policy 4.4): only groups of at least ``k`` hits (a day's
    visitors too); the number of groups left out is said, never which."""
    kept_days = [
        DayTotal(d.day, d.hits, d.visitors if (d.visitors or 0) >= k else None)
        for d in days
        if d.hits >= k
    ]
    all_counters = list(counters)
    kept = [c for c in all_counters if c.hits >= k]
    return kept_days, kept, len(all_counters) - len(kept)


def top_values(counters: Iterable[Counter], dimension: str, limit: int) -> list[tuple[str, int]]:
    """The ``limit`` values of a dimension with the most hits over the days, most first."""
    totals: dict[str, int] = {}
    for counter in counters:
        if counter.dimension == dimension:
            label = f"{counter.value}, {counter.detail}" if counter.detail else counter.value
            totals[label] = totals.get(label, 0) + counter.hits
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return ranked[:limit]
