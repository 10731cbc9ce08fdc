"""The pure parts: the order state machine, references, pricing, cursors."""

from __future__ import annotations

import re
from datetime import UTC, datetime
from uuid import uuid4

import pytest

from services.orders.domain import (
    CatalogProduct,
    Cursor,
    IllegalTransition,
    OrderState,
    Status,
    Trigger,
    decide,
    decode_cursor,
    encode_cursor,
    new_order_ref,
    price_cart,
    valid_idempotency_key,
)


def _state(status: Status, method: str = "cash_on_delivery", dispatch: bool = False) -> OrderState:
    return OrderState(status=status, payment_method=method, dispatch_requested=dispatch)  # type: ignore[arg-type]


def test_stock_reserved_asks_for_a_dispatch_on_cash_on_delivery() -> None:
    step = decide(_state(Status.PLACED), Trigger.STOCK_RESERVED)
    assert (step.status, step.changed, step.request_dispatch) == (Status.PLACED, False, True)
    step = decide(_state(Status.PLACED, "card"), Trigger.STOCK_RESERVED)
    assert (step.status, step.changed, step.request_dispatch) == (
        Status.AWAITING_PAYMENT,
        True,
        False,
    )
    with pytest.raises(IllegalTransition):
        decide(_state(Status.PLACED, dispatch=True), Trigger.STOCK_RESERVED)


@pytest.mark.parametrize(
    ("status", "trigger", "target"),
    [
        (Status.PLACED, Trigger.STOCK_REJECTED, Status.CANCELLED),
        (Status.AWAITING_PAYMENT, Trigger.PAYMENT_CONFIRMED, Status.PAID),
        (Status.PLACED, Trigger.DISPATCH_RELEASED, Status.DISPATCHED),
        (Status.PAID, Trigger.DISPATCH_RELEASED, Status.DISPATCHED),
        (Status.PLACED, Trigger.DISPATCH_REFUSED, Status.FAILED),
        (Status.DISPATCHED, Trigger.COURIER_DELIVERED, Status.DELIVERED),
        (Status.DISPATCHED, Trigger.COURIER_FAILED, Status.FAILED),
        (Status.PLACED, Trigger.CUSTOMER_CANCELLED, Status.CANCELLED),
        (Status.AWAITING_PAYMENT, Trigger.CUSTOMER_CANCELLED, Status.CANCELLED),
    ],
)
def test_legal_transitions(status: Status, trigger: Trigger, target: Status) -> None:
    assert decide(_state(status), trigger).status is target


@pytest.mark.parametrize(
    ("status", "trigger"),
    [
        (Status.CANCELLED, Trigger.STOCK_RESERVED),
        (Status.CANCELLED, Trigger.DISPATCH_RELEASED),
        (Status.DISPATCHED, Trigger.CUSTOMER_CANCELLED),
        (Status.DELIVERED, Trigger.CUSTOMER_CANCELLED),
        (Status.DELIVERED, Trigger.COURIER_FAILED),
        (Status.PLACED, Trigger.COURIER_DELIVERED),
        (Status.AWAITING_PAYMENT, Trigger.DISPATCH_RELEASED),
        (Status.FAILED, Trigger.COURIER_DELIVERED),
    ],
)
def test_illegal_transitions(status: Status, trigger: Trigger) -> None:
    with pytest.raises(IllegalTransition):
        decide(_state(status), trigger)


def test_no_customer_cancel_once_a_dispatch_is_requested() -> None:
    with pytest.raises(IllegalTransition):
        decide(_state(Status.PLACED, dispatch=True), Trigger.CUSTOMER_CANCELLED)


def test_order_refs_are_short_and_readable() -> None:
    refs = {new_order_ref() for _ in range(1000)}
    assert len(refs) == 1000
    assert all(re.fullmatch(r"[2-9A-HJKMNP-TV-Z]{4}-[2-9A-HJKMNP-TV-Z]{4}", r) for r in refs)


def test_pricing_uses_catalog_data_and_sets_aside_unknown_products() -> None:
    known, gone = uuid4(), uuid4()
    products = {known: CatalogProduct(known, "SKU", "Pill", 1_500, 10)}
    cart = price_cart([(known, 3), (gone, 1)], products)
    assert cart.total == 4_500 and cart.units == 3
    assert cart.unavailable == (gone,)


def test_cursor_round_trip_and_garbage() -> None:
    cursor = Cursor(datetime.now(UTC), uuid4())
    assert decode_cursor(encode_cursor(cursor)) == cursor
    for garbage in ("", "abc", "W10", "bm90IGpzb24"):
        assert decode_cursor(garbage) is None


def test_idempotency_keys() -> None:
    assert valid_idempotency_key(str(uuid4()))
    assert not valid_idempotency_key("")
    assert not valid_idempotency_key("x" * 201)
    assert not valid_idempotency_key("ключ")
    assert not valid_idempotency_key("a\nb")
