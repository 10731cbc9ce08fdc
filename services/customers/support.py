"""Support's contact lookup (policy 3.2.4): a support agent sees how to reach the customer of
an order they handle, and nothing more.

The agent names an order and a reason (a code). Orders says whose the order is and where it
stands (``GET /internal/orders/{id}/customer``: ids and states only); this service then
releases the smallest projection for (support, staff): the name to ask for and the phone to
call. The release is in the customer's disclosure register (recipient ``staff:support``, the
order, the reason) and the read in the audit log (actor ``staff:<id>``, purpose support).
There is no lookup by name, phone or customer id, and no profile: an agent cannot browse.

Blocked customers: blocking stops processing (Law 94-V art. 1), so a blocked customer's
contact is released only for an obligation already open, as the courier's delivery is: an
order placed before the block and not yet closed (placed, awaiting payment, paid,
dispatched: the shop still owes the parcel or the money). The register says so. A closed
order, or one placed after the block, gives no contact (409 Blocked).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from uuid import UUID

import aiohttp
from pydantic import BaseModel, ValidationError

from shared.auth import INTERNAL_TOKEN_HEADER
from shared.db import DbConn
from shared.logging import get_logger

from .domain import OPEN_ORDER_STATUSES, support_may_handle
from .personal_data import CustomerUnavailable, PdGate, Release, now

log = get_logger("customers.support")
RECIPIENT = "staff:support"


class OrderNotFound(Exception):
    """Orders knows no such order."""


class OrdersUnavailable(Exception):
    """The orders service did not answer (or not in the expected shape)."""


class OrderClosed(Exception):
    """The order was closed longer ago than support's window: no contact for it."""


class OrderOwner(BaseModel):
    """What orders tells about an order: whose it is (None once erased) and its state."""

    order_id: UUID
    order_ref: str
    customer_id: UUID | None
    status: str
    placed_at: datetime
    updated_at: datetime


@dataclass(frozen=True)
class ContactFound:
    order: OrderOwner
    release: Release


async def order_owner(
    http: aiohttp.ClientSession, orders_url: str, token: str, order_id: UUID
) -> OrderOwner:
    """Ask orders whose the order is; ``OrderNotFound`` for an unknown one."""
    if not orders_url:
        raise OrdersUnavailable("the orders service is not configured")
    url = f"{orders_url.rstrip('/')}/internal/orders/{order_id}/customer"
    try:
        async with http.get(url, headers={INTERNAL_TOKEN_HEADER: token}) as response:
            if response.status == 404:
                raise OrderNotFound
            response.raise_for_status()
            return OrderOwner.model_validate_json(await response.read())
    except (aiohttp.ClientError, TimeoutError, ValidationError) as exc:
        log.warning("orders did not answer a support lookup", error=type(exc).__name__)
        raise OrdersUnavailable("the orders service did not answer") from None


async def contact_lookup(
    conn: DbConn,
    gate: PdGate,
    *,
    staff_id: UUID,
    order: OrderOwner,
    reason: str,
    window_days: int,
) -> ContactFound:
    """Release the order's customer's contact to support (inside the caller's transaction)."""
    if order.customer_id is None:
        raise CustomerUnavailable("the order's customer is erased")
    if not support_may_handle(order.status, order.updated_at, now(), window_days):
        raise OrderClosed
    release = await gate.release(
        conn,
        order.customer_id,
        purpose="support",
        kind="staff",
        recipient=RECIPIENT,
        actor=f"staff:{staff_id}",
        order_ref=order.order_ref,
        reason=reason,
        # An open order is an obligation if it was placed before a block (the gate decides).
        order_placed_at=order.placed_at if order.status in OPEN_ORDER_STATUSES else None,
    )
    log.info(
        "support contact released",
        staff_id=str(staff_id),
        order_id=str(order.order_id),
        release_id=str(release.release_id),
    )
    return ContactFound(order, release)
