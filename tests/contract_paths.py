"""The public contract's paths, exactly as the design writes them, and the service behind each
(DESIGN.md section 5, docs/CONVENTIONS.md): what the gateway must route, slash or no slash."""

from __future__ import annotations

ID = "0b0c3f5e-1a2b-4c3d-8e9f-0123456789ab"  # for {id}

# (method, path, service)
CONTRACT: tuple[tuple[str, str, str], ...] = (
    ("GET", "/api/catalog/products", "catalog"),
    ("GET", f"/api/catalog/products/{ID}", "catalog"),
    ("GET", "/api/catalog/categories", "catalog"),
    ("GET", "/api/catalog/promotions", "catalog"),
    ("POST", "/api/catalog/promotions", "catalog"),
    ("GET", f"/api/catalog/promotions/{ID}", "catalog"),
    ("PATCH", f"/api/catalog/promotions/{ID}", "catalog"),
    ("POST", "/api/stats/hits", "catalog"),
    ("GET", "/api/stats/report", "catalog"),
    ("GET", "/api/stats/export", "catalog"),
    ("GET", "/api/customers/policy", "customers"),
    ("POST", "/api/customers/register", "customers"),
    ("POST", "/api/customers/login", "customers"),
    ("GET", "/api/customers/me", "customers"),
    ("PATCH", "/api/customers/me", "customers"),
    ("DELETE", "/api/customers/me", "customers"),
    ("GET", "/api/customers/me/consents", "customers"),
    ("PUT", "/api/customers/me/consents", "customers"),
    ("GET", "/api/customers/me/disclosures", "customers"),
    ("GET", "/api/customers/me/export", "customers"),
    ("POST", "/api/customers/me/block", "customers"),
    ("DELETE", "/api/customers/me/block", "customers"),
    ("GET", "/api/customers/me/requests", "customers"),
    ("POST", "/api/customers/me/requests", "customers"),
    ("POST", "/api/customers/staff/login", "customers"),
    ("POST", "/api/customers/support/contact-lookups", "customers"),
    ("GET", "/api/customers/privacy/requests", "customers"),
    ("POST", f"/api/customers/privacy/requests/{ID}/resolve", "customers"),
    ("GET", "/api/customers/privacy/breaches", "customers"),
    ("POST", "/api/customers/privacy/breaches", "customers"),
    ("POST", "/api/customers/privacy/legal-disclosures", "customers"),
    ("GET", "/account/", "customers"),
    ("GET", "/api/orders/cart", "orders"),
    ("POST", "/api/orders/cart/items", "orders"),
    ("POST", "/api/orders/checkout", "orders"),
    ("GET", f"/api/orders/decisions/{ID}", "orders"),
    ("GET", "/api/orders", "orders"),
    ("GET", f"/api/orders/{ID}", "orders"),
    ("POST", f"/api/orders/{ID}/cancel", "orders"),
    ("POST", "/api/payments/sandbox/callbacks", "orders"),
    ("POST", "/api/fulfilment/sandbox/callbacks", "orders"),
    ("POST", "/api/notifications/campaigns", "notifications"),
    ("GET", f"/api/notifications/campaigns/{ID}", "notifications"),
    ("POST", f"/api/notifications/campaigns/{ID}/pause", "notifications"),
    ("POST", f"/api/notifications/campaigns/{ID}/resume", "notifications"),
    ("GET", "/api/notifications/unsubscribe", "notifications"),
    ("POST", "/api/notifications/unsubscribe", "notifications"),
    *(
        ("GET", f"/api/{service}/openapi.json", service)
        for service in ("catalog", "orders", "customers", "notifications")
    ),
)
