"""Use case: marketing stopped from outside the account. A withdrawal through an email's
unsubscribe link or a STOP by SMS (``MarketingUnsubscribed``, ``POST /internal/sms-stops``)
appends a withdrawn marketing consent whose record names its source, and announces
``ConsentChanged`` as a withdrawal in the account does; a contact a provider refused for good
(``ContactSuppressed``) is suppressed for marketing until the customer changes it."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID

from shared.contracts import ConsentChanged, ContactSuppressed
from shared.db import DbConn
from shared.logging import get_logger
from shared.messaging import enqueue

from . import storage
from .crypto import Vault
from .domain import Channel, OptOutSource, marketing_record

log = get_logger("customers.opt_outs")


async def withdraw_marketing(
    conn: DbConn, customer_id: UUID, channel: Channel, source: OptOutSource, at: datetime
) -> bool:
    """Withdraw the channel's marketing consent; False (nothing recorded) when it is not
    given, or the customer is unknown or erased: a repeated unsubscribe changes nothing."""
    locked = await storage.lock_customer_status(conn, customer_id)
    if locked is None or locked[0] == "erased":
        return False
    kind = f"marketing_{channel}"
    if not (await storage.live_consents(conn, customer_id)).get(kind, False):
        return False
    record = marketing_record(customer_id, channel, False, at, source=source)
    await storage.add_consent(conn, customer_id, kind, False, locked[1], record)
    await enqueue(conn, ConsentChanged(customer_id=customer_id, channel=channel, granted=False))
    log.info("marketing withdrawn", channel=channel, source=source)
    return True


async def sms_stop(conn: DbConn, vault: Vault, phone: str, at: datetime) -> bool:
    """A STOP from ``phone`` (E.164, ``request_models.Phone``): the SMS marketing consent of
    the customer with that number withdrawn. False for a number no customer has, or whose
    consent is not given: the answer says nothing about who."""
    customer = await storage.find_login(conn, "phone_index", vault.blind_index("phone", phone))
    if customer is None:
        return False
    return await withdraw_marketing(conn, customer.id, "sms", "sms_stop", at)


async def suppress(conn: DbConn, event: ContactSuppressed) -> bool:
    done = await storage.suppress_contact(
        conn, event.customer_id, event.channel, event.reason, event.at
    )
    log.info("contact suppressed", channel=event.channel, reason=event.reason, recorded=done)
    return done
