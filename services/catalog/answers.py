"""What the catalog handlers answer, as models for the OpenAPI document (``routes.py``); the
schemathesis run (tests/catalog/test_openapi.py) checks live answers against them. The
handlers build their dicts themselves (``domain.product_view``, ``promotions.promotion_view``
...); these only describe them."""

from __future__ import annotations

from datetime import date, datetime
from uuid import UUID

from pydantic import Field

from services.catalog.language import Lang
from services.catalog.promotions import PublicStatus
from shared.answers import Absent, Amount, Answer, page_of


class Attributes(Answer):
    form: str | None
    dosage: str | None
    pack_size: int | None
    prescription_only: bool


class PromotionRef(Answer):
    id: UUID
    name: str
    ends_at: datetime


class Product(Answer):
    """A product as the storefront shows it; under a live promotion ``price`` is the promoted
    price and ``regular_price`` and ``promotion`` are there (absent otherwise)."""

    id: UUID
    sku: str
    name: str
    description: str
    lang: Lang
    category: str
    price: Amount
    weight_g: int
    in_stock: bool
    available: int
    images: list[str]
    attributes: Attributes
    archived: bool
    regular_price: Amount | Absent = None
    promotion: PromotionRef | Absent = None


ProductPage = page_of(Product, "ProductPage")


class Category(Answer):
    id: UUID
    slug: str
    name: str
    parent: str | None  # the parent's slug; null at the top
    products: int


class Categories(Answer):
    items: list[Category]


class CreatedCategory(Answer):
    id: UUID
    slug: str
    name: str
    name_kk: str | None
    parent: str | None


class PercentOff(Answer):
    percent: int


class AmountOff(Answer):
    """A promotion's amount off each unit, as its contract (shared.contracts) says it."""

    amount: Amount


class Promotion(Answer):
    id: UUID
    name: str
    discount: PercentOff | Amount
    product_ids: list[UUID]
    category: str | None  # a promotion covers product_ids or a category
    starts_at: datetime
    ends_at: datetime
    status: PublicStatus
    ended_at: datetime | None  # null unless ended early or cancelled
    created_at: datetime
    updated_at: datetime


PromotionPage = page_of(Promotion, "PromotionPage")


class PromotedProduct(Answer):
    id: UUID
    name: str
    price: Amount
    regular_price: Amount


class InternalPromotion(Answer):
    """What notifications' campaigns quote of a promotion."""

    id: UUID
    name: str
    discount: PercentOff | AmountOff
    product_ids: list[UUID]
    category: str | None
    starts_at: datetime
    ends_at: datetime
    status: PublicStatus
    products: list[PromotedProduct]


class InternalProduct(Answer):
    """What orders prices with: ``price`` paid now, ``regular_price`` without promotion."""

    id: UUID
    sku: str
    name: str
    price: Amount
    weight_g: int
    in_stock: bool
    available: int
    regular_price: Amount
    promotion_id: UUID | None


class InternalProducts(Answer):
    items: list[InternalProduct]  # unknown ids are absent


class DayHits(Answer):
    day: date
    hits: int
    visitors: int | None  # null in the export when fewer than min_hits


class PageHits(Answer):
    day: date
    path: str
    hits: int


class ProductHits(Answer):
    day: date
    product_id: str
    name: str
    hits: int


class ReferrerHits(Answer):
    day: date
    host: str
    hits: int


class CityHits(Answer):
    day: date
    city: str
    region: str
    hits: int


class RegionHits(Answer):
    day: date
    region: str
    hits: int


class BrowserHits(Answer):
    day: date
    browser: str
    hits: int


class OsHits(Answer):
    day: date
    os: str
    hits: int


class HitsReport(Answer):
    """The visit statistics of a window (``domain.report_document``)."""

    from_: date = Field(alias="from")
    to: date
    days: list[DayHits]
    pages: list[PageHits]
    products: list[ProductHits]
    referrers: list[ReferrerHits]
    cities: list[CityHits]
    regions: list[RegionHits]
    browsers: list[BrowserHits]
    os: list[OsHits]
    places_attribution: str | Absent = None  # when a GeoIP database is configured


class HitsExport(HitsReport):
    """The report for third parties: groups under ``min_hits`` left out, their number said."""

    min_hits: int
    groups_left_out: int
