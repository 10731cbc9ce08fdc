"""A storefront visitor for end-to-end tests: one cookie jar, an optional bearer token."""

from __future__ import annotations

import asyncio
import json
import uuid
from dataclasses import dataclass
from typing import Any, ClassVar

import aiohttp


class ApiClient:
    def __init__(self, session: aiohttp.ClientSession, base: str) -> None:
        self.session, self.base, self.token = session, base, ""

    async def call(self, method: str, path: str, **kwargs: Any) -> tuple[int, Any]:
        """The status and the body: parsed JSON when the answer is JSON, else its text."""
        headers = dict(kwargs.pop("headers", {}))
        if self.token:
            headers["Authorization"] = f"Bearer {self.token}"
        async with self.session.request(
            method, self.base + path, headers=headers, **kwargs
        ) as response:
            text = await response.text()
            body = json.loads(text) if text and "json" in response.content_type else text
            return response.status, body


@dataclass(frozen=True)
class Profile:
    """Who the shoppers of one test file are; a number makes each email and phone unique."""

    tag: str
    last_name: str
    first_name: str
    operator: str  # the mobile operator's code of the phone numbers
    address: dict[str, str]

    @property
    def password(self) -> str:
        return f"{self.tag} flow password"


class Shopper(ApiClient):
    """A customer who signs up and checks out; a test file sets its ``profile``."""

    profile: ClassVar[Profile]

    async def sign_up(self, n: int, *, phone: str = "", marketing: bool = False) -> None:
        """Register (the phone made from ``n`` unless given; marketing by email and SMS
        accepted or not) and sign in."""
        _, policy = await self.call("GET", "/api/customers/policy")
        email = f"{self.profile.tag}-{uuid.uuid4().hex[:8]}-{n}@example.kz"
        self.email = email  # where the shop's mail to this shopper goes
        status, body = await self.call(
            "POST",
            "/api/customers/register",
            json={
                "last_name": self.profile.last_name,
                "first_name": self.profile.first_name,
                "phone": phone
                or f"+7 {self.profile.operator} {n // 10000 % 1000:03d} {n % 10000:04d}",
                "email": email,
                "password": self.profile.password,
                "delivery_address": self.profile.address,
                "accept_policy_version": policy["version"],
                "marketing": {"email": marketing, "sms": marketing},
                "locale": "ru",
            },
        )
        assert status == 201, body
        status, tokens = await self.call(
            "POST",
            "/api/customers/login",
            json={"login": email, "password": self.profile.password},
        )
        assert status == 200, tokens
        self.token = tokens["access_token"]

    async def in_stock_product(self) -> str:
        """The id of the first product the catalog has in stock."""
        _, page = await self.call("GET", "/api/catalog/products?limit=50")
        return str(next(p for p in page["items"] if p["in_stock"])["id"])

    async def wait_status(self, order_id: str, status: str, within_s: float = 20) -> Any:
        """The order once it reaches ``status`` (the services move it by events)."""
        async with asyncio.timeout(within_s):
            while True:
                code, order = await self.call("GET", f"/api/orders/{order_id}")
                assert code == 200, order
                if order["status"] == status:
                    return order
                await asyncio.sleep(0.1)

    async def my_request(self, request_id: str) -> dict[str, Any]:
        """One of the customer's data-subject requests as their own list shows it."""
        _, mine = await self.call("GET", "/api/customers/me/requests")
        [item] = [i for i in mine["items"] if i["id"] == request_id]
        return dict(item)

    async def checkout(self, product_id: str, method: str, quantity: int = 1) -> dict[str, Any]:
        status, body = await self.call(
            "POST", "/api/orders/cart/items", json={"product_id": product_id, "quantity": quantity}
        )
        assert status == 200, body
        status, order = await self.call(
            "POST",
            "/api/orders/checkout",
            json={"delivery": {"courier": "sandbox"}, "payment": {"method": method}},
            headers={"Idempotency-Key": str(uuid.uuid4())},
        )
        assert status == 201, order
        return dict(order)


async def resolve_at_desk(
    officer: ApiClient, request_id: str, body: dict[str, Any]
) -> dict[str, Any]:
    """The privacy officer's answer to a request at the desk, through the gateway."""
    status, answered = await officer.call(
        "POST", f"/api/customers/privacy/requests/{request_id}/resolve", json=body
    )
    assert status == 200, answered
    return dict(answered)
