"""Pure logic of the catalog: cursors and reservation plans."""

# Russian product names are full of Cyrillic letters that look like Latin ones.

from __future__ import annotations

from uuid import uuid4

import pytest

from services.catalog.domain import (
    BadCursor,
    StockRow,
    decode_cursor,
    encode_cursor,
    merge_lines,
    plan_reservation,
)
from shared.contracts import OrderLine


def test_cursor_round_trips_and_rejects_forgeries():
    product_id = uuid4()
    assert decode_cursor(encode_cursor("Но-шпа 40 мг", product_id)) == ("Но-шпа 40 мг", product_id)
    for forged in ("", "!!!", "e30", "WyJhIiwgIm5vdC1hLXV1aWQiXQ"):
        with pytest.raises(BadCursor):
            decode_cursor(forged)


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
