"""Pure logic of the catalog: cursors, languages, image addresses and reservation plans."""

# Russian product names are full of Cyrillic letters that look like Latin ones.

from __future__ import annotations

from datetime import UTC, datetime
from uuid import uuid4

import pytest
from pydantic import ValidationError

from services.catalog.domain import ProductIn, StockRow, merge_lines, plan_reservation
from services.catalog.language import choose_lang
from services.catalog.search import decode_cursor, encode_cursor
from shared.contracts import OrderLine
from shared.paging import BadCursor
from shared.paging import encode_cursor as raw_cursor


def test_cursor_round_trips_per_sort_and_rejects_forgeries():
    product_id = uuid4()
    moment = datetime(2026, 12, 3, 9, 30, 1, 123456, tzinfo=UTC)
    for sort, key in (
        ("name", "Но-шпа 40 мг"),
        ("relevance", 0.6079271435737610),
        ("price_asc", 25_000),
        ("price_desc", 0),
        ("newest", moment),
    ):
        after = decode_cursor(encode_cursor(sort, key, product_id, "fuzzy"), sort)
        assert (after.key, after.product_id, after.mode) == (key, product_id, "fuzzy")
    with pytest.raises(BadCursor):  # a cursor of another order
        decode_cursor(encode_cursor("price_asc", 100, product_id), "newest")
    forgeries = ["", "!!!", "e30", "WyJhIiwgIm5vdC1hLXV1aWQiXQ"]
    forgeries += [
        raw_cursor("relevance", "nan", str(product_id), "exact"),
        raw_cursor("price_asc", "-1", str(product_id), "exact"),
        raw_cursor("price_asc", "9" * 5000, str(product_id), "exact"),
        raw_cursor("newest", "2026-12-03T09:30:01", str(product_id), "exact"),  # no time zone
        raw_cursor("name", "Бинт", "not-a-uuid", "exact"),
        raw_cursor("name", "Бинт", str(product_id), "loose"),
        raw_cursor("name", "Бинт", str(product_id)),
    ]
    for forged in forgeries:
        for sort in ("name", "relevance", "price_asc", "price_desc", "newest"):
            with pytest.raises(BadCursor):
                decode_cursor(forged, sort)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("lang", "accept", "chosen"),
    [
        (None, None, "ru"),
        (None, "kk-KZ,kk;q=0.9,ru;q=0.8", "kk"),
        (None, "ru-RU,ru;q=0.9,kk;q=0.8", "ru"),
        (None, "en-US,en;q=0.9,kk;q=0.5", "kk"),
        (None, "en-US,de", "ru"),
        (None, "kk;q=0,ru;q=0.1", "ru"),
        (None, "kk;q=nan", "ru"),
        (None, ";;;,,,", "ru"),
        ("kk", "ru", "kk"),
        ("ru", "kk", "ru"),
    ],
)
def test_language_from_the_parameter_then_the_header_else_russian(lang, accept, chosen):
    assert choose_lang(lang, accept) == chosen


def _product(**overrides):
    body = {
        "sku": "PARA-1",
        "name": "Парацетамол",
        "category": "misc",
        "price": {"amount": 1, "currency": "KZT"},
        "weight_g": 1,
    }
    return ProductIn.model_validate({**body, **overrides})


def test_image_addresses_must_be_plain_https():
    ok = ["https://cdn.apteka.kz/p/para-500.jpg", "https://img.example.kz:8443/a.png?w=200"]
    assert _product(images=ok).images == ok
    for bad in (
        "http://cdn.apteka.kz/a.jpg",
        "javascript:alert(1)",
        "https://user:pass@cdn.apteka.kz/a.jpg",
        "https:///a.jpg",
        "https://cdn.apteka.kz/a b.jpg",
        "https://cdn.apteka.kz/\n.jpg",
        "https://cdn.apteka.kz:99999/a.jpg",
        "data:image/png;base64,AAAA",
        "https://cdn.apteka.kz/" + "a" * 600,
    ):
        with pytest.raises(ValidationError):
            _product(images=[bad])
    with pytest.raises(ValidationError):
        _product(images=ok * 6)  # more than ten


def test_plan_covers_every_line_or_names_what_is_missing():
    a, b = sorted([uuid4(), uuid4()])
    wanted = merge_lines([OrderLine(product_id=b, quantity=1), OrderLine(product_id=a, quantity=2),
                          OrderLine(product_id=b, quantity=3)])  # fmt: skip
    assert list(wanted.items()) == [(a, 2), (b, 4)]
    stock = {a: StockRow(a, 2, 100), b: StockRow(b, 4, 50)}
    assert plan_reservation(wanted, stock).reason is None
    assert plan_reservation(wanted, stock).weight_g == 400
    short = {a: StockRow(a, 1, 100), b: StockRow(b, 4, 50)}
    assert plan_reservation(wanted, short).problem_ids == (a,)
    assert plan_reservation(wanted, {a: stock[a]}).reason == "unknown_product"
    assert plan_reservation({}, stock).reason == "empty_order"
