"""The orders HTTP API: thin handlers per resource (parse, call, answer) and the route table."""

from __future__ import annotations

from aiohttp import web

from . import bank_callbacks, cart, checkout, courier_callbacks, internal, orders, staff


def add_routes(app: web.Application) -> None:
    router = app.router
    router.add_get("/api/orders/cart", cart.get_cart)
    router.add_post("/api/orders/cart/items", cart.add_cart_item)
    router.add_delete("/api/orders/cart/items/{product_id}", cart.remove_cart_item)
    router.add_post("/api/orders/checkout", checkout.checkout)
    router.add_get("/api/orders", orders.list_orders)
    router.add_get("/api/orders/attention", staff.attention)
    router.add_get("/api/orders/stats/networks", staff.network_stats)
    router.add_get("/api/orders/decisions/{decision_id}", staff.automated_decision)
    router.add_get("/api/orders/{order_id}", orders.get_order)
    router.add_post("/api/orders/{order_id}/cancel", orders.cancel_order)
    router.add_post("/api/payments/{bank}/callbacks", bank_callbacks.bank_callback)
    router.add_post("/api/fulfilment/{courier}/callbacks", courier_callbacks.courier_callback)
    router.add_get("/internal/customers/{customer_id}/export", internal.export_customer)
    router.add_get("/internal/customers/{customer_id}/obligations", internal.customer_obligations)
    router.add_get("/internal/orders/{order_id}/customer", internal.order_customer)
