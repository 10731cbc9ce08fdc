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
    PaymentConflict,
    PaymentStatus,
    Status,
    Trigger,
    Velocity,
    decide,
    decode_cursor,
    encode_cursor,
    new_order_ref,
    payment_step,
    price_cart,
    valid_idempotency_key,
)
from shared.paging import BadCursor


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


@pytest.mark.parametrize(
    ("status", "method", "dispatch", "refund"),
    [
        (Status.PLACED, "cash_on_delivery", False, False),
        (Status.PLACED, "card", False, False),
        (Status.PLACED, "cash_on_delivery", True, False),  # stock reserved, dispatch asked
        (Status.AWAITING_PAYMENT, "card", False, False),
        (Status.PAID, "card", True, True),
    ],
)
def test_customer_cancels_until_dispatched(
    status: Status, method: str, dispatch: bool, refund: bool
) -> None:
    step = decide(_state(status, method, dispatch), Trigger.CUSTOMER_CANCELLED)
    assert (step.status, step.changed) == (Status.CANCELLED, True)
    # A requested dispatch is cancelled with the courier; money taken goes back.
    assert (step.cancel_dispatch, step.request_refund) == (dispatch, refund)
    assert not step.request_dispatch


@pytest.mark.parametrize(
    "status", [Status.DISPATCHED, Status.DELIVERED, Status.FAILED, Status.CANCELLED]
)
def test_no_customer_cancel_once_dispatched_or_final(status: Status) -> None:
    for method in ("cash_on_delivery", "card"):
        with pytest.raises(IllegalTransition):
            decide(_state(status, method, dispatch=True), Trigger.CUSTOMER_CANCELLED)


def test_release_after_cancel_cancels_the_dispatch_again_once() -> None:
    cancelled = OrderState(Status.CANCELLED, "card", dispatch_requested=True)
    step = decide(cancelled, Trigger.DISPATCH_RELEASED)
    assert (step.status, step.changed, step.cancel_dispatch) == (Status.CANCELLED, False, True)
    assert not step.request_refund and not step.request_dispatch
    # Once the release is recorded, a further release changes nothing.
    released = OrderState(Status.CANCELLED, "card", dispatch_requested=True, dispatch_released=True)
    with pytest.raises(IllegalTransition):
        decide(released, Trigger.DISPATCH_RELEASED)
    # A cancelled order that never asked for a dispatch has nothing to release.
    with pytest.raises(IllegalTransition):
        decide(_state(Status.CANCELLED), Trigger.DISPATCH_RELEASED)


def test_courier_cannot_deliver_a_cancelled_order() -> None:
    for trigger in (Trigger.COURIER_DELIVERED, Trigger.COURIER_FAILED):
        with pytest.raises(IllegalTransition):
            decide(_state(Status.CANCELLED, dispatch=True), trigger)


def test_only_customer_cancel_cancels_a_dispatch() -> None:
    for status, trigger in (
        (Status.PLACED, Trigger.STOCK_REJECTED),
        (Status.AWAITING_PAYMENT, Trigger.PAYMENT_DECLINED),
        (Status.AWAITING_PAYMENT, Trigger.PAYMENT_EXPIRED),
        (Status.PAID, Trigger.DISPATCH_REFUSED),
        (Status.DISPATCHED, Trigger.COURIER_FAILED),
    ):
        assert not decide(_state(status, "card", True), trigger).cancel_dispatch


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
        with pytest.raises(BadCursor):
            decode_cursor(garbage)


def test_idempotency_keys() -> None:
    assert valid_idempotency_key(str(uuid4()))
    assert not valid_idempotency_key("")
    assert not valid_idempotency_key("x" * 201)
    assert not valid_idempotency_key("ключ")
    assert not valid_idempotency_key("a\nb")


# --- card payments, networks, velocity --------------------------------------------------


def test_payment_confirmed_asks_for_the_dispatch() -> None:
    step = decide(OrderState(Status.AWAITING_PAYMENT, "card", False), Trigger.PAYMENT_CONFIRMED)
    assert (step.status, step.request_dispatch, step.request_refund) == (Status.PAID, True, False)


def test_only_paid_card_orders_that_end_undelivered_are_refunded() -> None:
    paid = OrderState(Status.PAID, "card", False)
    assert decide(paid, Trigger.CUSTOMER_CANCELLED).request_refund
    assert decide(OrderState(Status.PAID, "card", True), Trigger.DISPATCH_REFUSED).request_refund
    dispatched = OrderState(Status.DISPATCHED, "card", True)
    assert decide(dispatched, Trigger.COURIER_FAILED).request_refund
    assert not decide(dispatched, Trigger.COURIER_DELIVERED).request_refund
    unpaid = OrderState(Status.AWAITING_PAYMENT, "card", False)
    assert not decide(unpaid, Trigger.PAYMENT_EXPIRED).request_refund
    cash = OrderState(Status.DISPATCHED, "cash_on_delivery", True)
    assert not decide(cash, Trigger.COURIER_FAILED).request_refund


def test_payment_steps() -> None:
    assert payment_step(PaymentStatus.REQUESTED, "succeeded").status is PaymentStatus.SUCCEEDED
    late = payment_step(PaymentStatus.CANCELLED, "succeeded")
    assert (late.status, late.request_refund) == (PaymentStatus.REFUND_REQUESTED, True)
    assert payment_step(PaymentStatus.SUCCEEDED, "succeeded").status is None
    with pytest.raises(PaymentConflict):
        payment_step(PaymentStatus.SUCCEEDED, "declined")
    with pytest.raises(PaymentConflict):
        payment_step(PaymentStatus.REQUESTED, "refunded")


def test_velocity_limits() -> None:
    assert Velocity(6, 1, 5, 60).exceeded
    assert Velocity(1, 61, 5, 60).exceeded
    assert not Velocity(5, 60, 5, 60).exceeded
    assert not Velocity(100, 100, 0, 0).exceeded
