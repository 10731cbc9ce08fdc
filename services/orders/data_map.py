"""What the orders service holds about a customer, table by table (shared.data_map).

No personal data itself (no names, phones, emails, addresses): a person is their customer
id. The export (``customer_orders.export``), the erasure (depersonalising orders) and the
retention of this service follow this map; tests/orders/test_data_map.py checks it against
the migrated schema.
"""

from __future__ import annotations

from dataclasses import replace

from shared.data_map import (
    BLOCKS_HOLDING,
    OUTBOX_HOLDING,
    REVOCATIONS_HOLDING,
    SHARED_UNLINKED,
    DataMap,
    Erasure,
    Holding,
    Kind,
)

ACCOUNTING = (
    "the sale is evidence for accounting and tax (policy 3.2.1, 3.2.2); Law 94-V Art. 12(2)"
    " lets it outlive the account unlinked"
)

DATA_MAP = DataMap(
    service="orders",
    holdings=(
        Holding(
            table="orders",
            link="customer_id",
            holds="each order: reference, status, payment method, courier, total, weight, dates",
            kind=Kind.LINKED,
            section="orders",
            erasure=Erasure.DEPERSONALISE,
            retention="orders_accounting",
            reason=ACCOUNTING,
            erasure_note="customer_id set NULL; totals and lines stay for accounting",
        ),
        Holding(
            table="order_lines",
            link="order_id",
            via="orders",
            holds="what was bought: product, sku, name, unit price, quantity; the regular"
            " price and the promotion when bought under a catalog promotion",
            kind=Kind.LINKED,
            section="orders",
            erasure=Erasure.DEPERSONALISE,
            retention="orders_accounting",
            reason=ACCOUNTING,
        ),
        Holding(
            table="order_status_history",
            link="order_id",
            via="orders",
            holds="every status an order went through, when, and the cause",
            kind=Kind.LINKED,
            section="orders",
            erasure=Erasure.DEPERSONALISE,
            retention="orders_accounting",
            reason=ACCOUNTING,
        ),
        Holding(
            table="payments",
            link="order_id",
            via="orders",
            holds="the card payment of an order: bank, amount, status, expiry (no card data)",
            kind=Kind.LINKED,
            section="orders",
            erasure=Erasure.DEPERSONALISE,
            retention="orders_accounting",
            reason=ACCOUNTING,
        ),
        Holding(
            table="payment_callbacks",
            link="payment_id",
            via="payments",
            holds="the bank's signed notices applied: event id, status, body hash, when",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.DEPERSONALISE,
            retention="orders_accounting",
            reason=ACCOUNTING,
            not_exported="the bank's own event ids and a hash; the payment's status they set is"
            " in the order",
        ),
        Holding(
            table="dispatches",
            link="order_id",
            via="orders",
            holds="the delivery of an order: courier, status, the release id of the address"
            " given to the courier, when cancelled",
            kind=Kind.LINKED,
            section="orders",
            erasure=Erasure.DEPERSONALISE,
            retention="orders_accounting",
            reason="delivery (policy 3.2.3) and its evidence",
            erasure_note="release_id set NULL: it is the key of the customers service's"
            " disclosure register, which names the customer",
        ),
        Holding(
            table="courier_callbacks",
            link="dispatch_id",
            via="dispatches",
            holds="the courier's signed reports applied: event id, status, when",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.DEPERSONALISE,
            retention="orders_accounting",
            reason="delivery (policy 3.2.3) and its evidence",
            not_exported="the courier's own event ids; the statuses they set are in the order's"
            " history",
        ),
        Holding(
            table="checkout_requests",
            link="customer_id",
            holds="each checkout's Idempotency-Key, a hash of its body and the order it made",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.DELETE,
            retention="checkout_requests",
            reason="a retried checkout makes one order, not two (policy 3.2.1)",
            not_exported="a key the customer's own app chose and a hash; the order it made is"
            " in 'orders'",
        ),
        Holding(
            table="carts",
            link="customer_id",
            holds="the customer's cart (or an anonymous one by cookie): created, updated",
            kind=Kind.LINKED,
            section="cart",
            erasure=Erasure.DELETE,
            retention="carts",
            reason="the cart (policy 1.10)",
        ),
        Holding(
            table="cart_items",
            link="cart_id",
            via="carts",
            holds="the products in the cart and their quantities",
            kind=Kind.LINKED,
            section="cart",
            erasure=Erasure.DELETE,
            retention="carts",
            reason="the cart (policy 1.10)",
        ),
        Holding(
            table="checkout_velocity",
            link="subject",
            rows="scope = 'account'",
            holds="checkout attempts per account (the customer id) and minute",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.DELETE,
            retention="checkout_velocity",
            reason="control of the lawfulness of payments (policy 5.6)",
            not_exported="a count for the current minute, gone within minutes",
            erasure_note="the account's rows are deleted at once (they would expire within"
            " minutes anyway)",
        ),
        Holding(
            table="checkout_attempts",
            link="attempt",
            holds="a hash of the customer id and the Idempotency-Key per minute, so a retry is"
            " counted once",
            kind=Kind.LINKED,
            section=None,
            erasure=Erasure.EXPIRE,
            retention="checkout_velocity",
            reason="control of the lawfulness of payments (policy 5.6)",
            not_exported="a one-way hash, gone within minutes",
        ),
        Holding(
            table="automated_decisions",
            link="customer_id",
            holds="each checkout refused automatically by a velocity limit: which limit (account"
            " or network), the count against it, the wait, when",
            kind=Kind.LINKED,
            section="decisions",
            erasure=Erasure.DELETE,
            retention="automated_decisions",
            reason="an objection to an automated decision is reviewed on the clock (Law 94-V"
            " Art. 19-1)",
            erasure_note="deleted: an objection to it ends with the account",
        ),
        replace(
            OUTBOX_HOLDING,
            erasure_note="published bodies naming the customer id are wiped at the erasure"
            " (the erasure waits while one is unpublished); the rest is purged after"
            " outbox_retention_s",
        ),
        REVOCATIONS_HOLDING,
        BLOCKS_HOLDING,
    ),
    unlinked={
        **SHARED_UNLINKED,
        "checkout_network_stats": "daily checkout counts per network and city: no customer id,"
        " no order id (policy 5.6, Law 94-V Art. 17(1))",
    },
)
