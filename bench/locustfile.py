"""Load beyond this machine: the storefront's mix of requests for Locust, against any gateway.

    .venv/bin/locust -f bench/locustfile.py --host http://shop.example:8080
    .venv/bin/locust -f bench/locustfile.py --host http://127.0.0.1:8080 \
        --headless -u 50 -r 5 -t 5m --shop-think-time 1.0

Each simulated shopper signs up and signs in once (a customer of its own, marketing off),
then does what the storefront's pages do, in the storefront's proportions: browse 10
(a product page of the catalog, a search, a product), cart 3 (a product in stock into the
cart), checkout 1 (cash on delivery with the sandbox courier, with a fresh
``Idempotency-Key``). Requests are named by route template, never by id, so the statistics
group them as the shop's metrics do. Anything but the expected status is a failure.

The shop's velocity limits (``CHECKOUT_LIMIT_PER_*``) and argon2 cost apply as configured:
raise them on a shop meant for load. Every shopper is a real account with orders; run it
against a shop whose data may be thrown away.
"""

from __future__ import annotations

import random
import uuid
from typing import Any

from locust import HttpUser, events, task
from locust.argument_parser import LocustArgumentParser

CHECKOUT = {"delivery": {"courier": "sandbox"}, "payment": {"method": "cash_on_delivery"}}
SEARCHES = ("витамин", "крем", "аспирин", "чай", "omega")
PAGE_SIZE = 20


@events.init_command_line_parser.add_listener
def _options(parser: LocustArgumentParser) -> None:
    parser.add_argument(
        "--shop-think-time",
        type=float,
        default=1.0,
        env_var="LOCUST_SHOP_THINK_TIME",
        help="mean seconds a shopper waits between two actions (uniform from 0 to twice it)",
    )


class Shopper(HttpUser):
    """One storefront visitor with an account of its own."""

    def wait_time(self) -> float:
        return random.uniform(0, 2 * self.environment.parsed_options.shop_think_time)

    def on_start(self) -> None:
        self.products: list[dict[str, Any]] = []
        self.in_cart = 0
        run = uuid.uuid4().hex
        email, password = f"locust-{run[:12]}@example.kz", f"locust password {run[12:24]}"
        with self.client.get(
            "/api/customers/policy", name="/api/customers/policy", catch_response=True
        ) as policy:
            if policy.status_code != 200:
                policy.failure(f"policy: {policy.status_code}")
                return
            version = policy.json()["version"]
        digits = f"{random.randrange(10**7):07d}"
        register = {
            "last_name": "Нагрузкин",
            "first_name": "Локуст",
            "phone": f"+7 705 {digits[:3]} {digits[3:5]} {digits[5:]}",
            "email": email,
            "password": password,
            "delivery_address": {"city": "Алматы", "street": "улица Толе би", "house": "101"},
            "accept_policy_version": version,
            "marketing": {"email": False, "sms": False},
            "locale": "ru",
        }
        self._expect("POST", "/api/customers/register", {201}, json=register)
        tokens = self._expect(
            "POST", "/api/customers/login", {200}, json={"login": email, "password": password}
        )
        if tokens is not None:
            self.client.headers["Authorization"] = f"Bearer {tokens['access_token']}"
        self.browse_list()

    def _expect(
        self, method: str, path: str, statuses: set[int], name: str | None = None, **kwargs: Any
    ) -> Any:
        """One request; a status outside ``statuses`` is a failure. The JSON body, or None."""
        with self.client.request(
            method, path, name=name or path, catch_response=True, **kwargs
        ) as response:
            if response.status_code not in statuses:
                response.failure(f"{method} {name or path}: {response.status_code}")
                return None
            response.success()
            return response.json() if response.text else None

    def browse_list(self) -> None:
        page = self._expect("GET", f"/api/catalog/products?limit={PAGE_SIZE}", {200},
                            name="/api/catalog/products")  # fmt: skip
        if page is not None:
            self.products = [p for p in page["items"] if p["in_stock"]] or self.products

    # browse 10: the listing, a search, a product page
    @task(4)
    def browse(self) -> None:
        self.browse_list()

    @task(3)
    def search(self) -> None:
        query = random.choice(SEARCHES)
        self._expect("GET", f"/api/catalog/products?q={query}&limit={PAGE_SIZE}", {200},
                     name="/api/catalog/products?q=")  # fmt: skip

    @task(3)
    def product(self) -> None:
        if self.products:
            product = random.choice(self.products)
            self._expect("GET", f"/api/catalog/products/{product['id']}", {200},
                         name="/api/catalog/products/{id}")  # fmt: skip

    # cart 3
    @task(3)
    def add_to_cart(self) -> None:
        if not self.products:
            return
        product = random.choice(self.products)
        line = {"product_id": product["id"], "quantity": 1}
        if self._expect("POST", "/api/orders/cart/items", {200, 201}, json=line) is not None:
            self.in_cart += 1

    # checkout 1 (what is in the cart; an empty cart gets a product first, as a shopper's would)
    @task(1)
    def checkout(self) -> None:
        if not self.in_cart:
            self.add_to_cart()
        if not self.in_cart:
            return
        order = self._expect(
            "POST", "/api/orders/checkout", {201}, json=CHECKOUT,
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )  # fmt: skip
        if order is not None:
            self.in_cart = 0
