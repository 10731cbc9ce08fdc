"""The orders route table: registered by ``add_routes`` and described by ``shared.openapi``."""

from __future__ import annotations

from shared.openapi import Operation, Param

from . import answers, bank_callbacks, cart, checkout, courier_callbacks, internal, orders, staff

CODE = {"type": "string", "pattern": "^[a-z0-9_-]{1,32}$"}
# The catalog is asked for prices: its failure is the shop's 503, not a 5xx of ours.
CATALOG = (503,)
IDEMPOTENCY = Param(
    checkout.IDEMPOTENCY_HEADER,
    {"type": "string", "pattern": "^[ -~]{1,200}$"},
    description="the same key again answers the order it placed (428 without one)",
    where="header",
)

OPERATIONS: tuple[Operation, ...] = (
    Operation(
        "GET",
        "/api/orders/cart",
        cart.get_cart,
        "The cart (cookie cart_id)",
        errors=CATALOG,
        response=answers.CartAnswer,
    ),
    Operation(
        "POST",
        "/api/orders/cart/items",
        cart.add_cart_item,
        "Put a product in the cart",
        body=cart.AddItem,
        errors=(404, *CATALOG),
        response=answers.CartAnswer,
    ),
    Operation(
        "DELETE",
        "/api/orders/cart/items/{product_id}",
        cart.remove_cart_item,
        "Take a product out of the cart",
        errors=CATALOG,
        response=answers.CartAnswer,
    ),
    Operation(
        "POST",
        "/api/orders/checkout",
        checkout.checkout,
        "Place the cart as an order (Idempotency-Key)",
        body=checkout.CheckoutBody,
        auth="customer",
        params=(IDEMPOTENCY,),
        status=201,
        also=(200,),  # the same Idempotency-Key again: the order it placed
        errors=(409, 428, *CATALOG),
        response=answers.PlacedAnswer,
    ),
    Operation(
        "GET",
        "/api/orders",
        orders.list_orders,
        "The customer's orders, paged",
        query=orders.ListQuery,
        auth="customer",
        response=answers.OrderPage,
    ),
    Operation(
        "GET",
        "/api/orders/attention",
        staff.attention,
        "Orders that need support's attention",
        query=staff.AttentionQuery,
        auth="staff",
        roles=("support",),
        response=answers.AttentionList,
    ),
    Operation(
        "GET",
        "/api/orders/stats/networks",
        staff.network_stats,
        "Orders by client network (counts)",
        query=staff.StatsQuery,
        auth="staff",
        roles=("analyst",),
        response=answers.NetworkStats,
    ),
    Operation(
        "GET",
        "/api/orders/decisions/{decision_id}",
        staff.automated_decision,
        "An automated decision on an order",
        auth="staff",
        roles=("privacy_officer",),
        response=answers.DecisionAnswer,
    ),
    Operation(
        "GET",
        "/api/orders/{order_id}",
        orders.get_order,
        "One of the customer's orders",
        auth="customer",
        response=answers.OrderDocument,
    ),
    Operation(
        "POST",
        "/api/orders/{order_id}/cancel",
        orders.cancel_order,
        "Cancel an order",
        auth="customer",
        errors=(409,),
        response=answers.CancelAnswer,
    ),
    Operation(
        "POST",
        "/api/payments/{bank}/callbacks",
        bank_callbacks.bank_callback,
        "The bank's signed payment callback",
        body=bank_callbacks.BankCallback,
        auth="signed",
        errors=(409,),
        response=answers.CallbackAnswer,
        path_schemas={"bank": CODE},
    ),
    Operation(
        "POST",
        "/api/fulfilment/{courier}/callbacks",
        courier_callbacks.courier_callback,
        "The courier's signed delivery callback",
        body=courier_callbacks.CourierCallback,
        auth="signed",
        errors=(409,),
        response=answers.CallbackAnswer,
        path_schemas={"courier": CODE},
    ),
    Operation(
        "GET",
        "/internal/customers/{customer_id}/export",
        internal.export_customer,
        "What orders holds about a customer",
        auth="internal",
        response=answers.OrdersExport,
    ),
    Operation(
        "GET",
        "/internal/customers/{customer_id}/obligations",
        internal.customer_obligations,
        "What still defers a customer's erasure",
        auth="internal",
        response=answers.Obligations,
    ),
    Operation(
        "GET",
        "/internal/orders/{order_id}/customer",
        internal.order_customer,
        "An order's customer, for support's contact lookup",
        auth="internal",
        response=answers.OrderCustomer,
    ),
)
