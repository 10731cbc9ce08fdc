"""What to send, in which words and to whom: pure functions and plain data, no I/O."""

from __future__ import annotations

import functools
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from email import policy
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import format_datetime, formataddr, parseaddr
from typing import Literal, cast, get_args
from uuid import UUID, uuid5

from shared import workdays
from shared.contracts import (
    Contract,
    CustomerBlockChanged,
    CustomerBlocked,
    CustomerInactivityNotice,
    CustomerRegistered,
    CustomerUnblocked,
    OrderAwaitingPayment,
    OrderCancelled,
    OrderDelivered,
    OrderDispatched,
    OrderFailed,
    OrderPaid,
    OrderPlaced,
    OrderStatusChanged,
    PaymentRefunded,
)

Kind = Literal[
    "welcome",
    "order_placed",
    "order_awaiting_payment",
    "order_paid",
    "order_dispatched",
    "order_delivered",
    "order_failed",
    "order_cancelled",
    "order_refunded",
    "inactivity_notice",
    "customer_blocked",
    "customer_unblocked",
    "policy_published",
    "erasure_confirmation",
    "campaign",
]
Locale = Literal["ru", "kk", "en"]
Status = Literal["sent", "failed", "skipped"]
Channel = Literal["email", "sms"]
PaymentMethod = Literal["card", "cash_on_delivery"]
DEFAULT_LOCALE: Locale = "ru"
ALMATY = workdays.ALMATY  # the shop's dates, as the customer reads them
LOCALES: tuple[str, ...] = get_args(Locale)
_ORDER_KINDS: dict[type[OrderStatusChanged], Kind] = {
    OrderAwaitingPayment: "order_awaiting_payment",
    OrderPaid: "order_paid",
    OrderDispatched: "order_dispatched",
    OrderDelivered: "order_delivered",
    OrderFailed: "order_failed",
    OrderCancelled: "order_cancelled",
}
_BLOCK_KINDS: dict[type[CustomerBlockChanged], Kind] = {
    CustomerBlocked: "customer_blocked",
    CustomerUnblocked: "customer_unblocked",
}
# The events that make a mail through the notifier (the block events also keep the state).
CONSUMED_EVENTS: tuple[type[Contract], ...] = (
    CustomerRegistered,
    CustomerInactivityNotice,
    OrderPlaced,
    PaymentRefunded,
    *_ORDER_KINDS,
)
ORDER_MAILS: frozenset[Kind] = frozenset({"order_placed", "order_refunded", *_ORDER_KINDS.values()})
# What may still go to a customer who blocked processing (Law 94-V art. 1: a temporary stop):
# the mail of an order, part of performing a contract the customer concluded (an open
# obligation, art. 8(2)); the customers service releases the address only for an order placed
# before the block. And the answer to the customer's own request: the confirmation that
# processing is stopped (customers releases it for that notice only). The welcome mail, the
# policy notice (customers leaves blocked customers out of its batches) and marketing
# (campaign_runner.py) are not
# owed and are skipped unasked.
OWED_WHILE_BLOCKED: frozenset[Kind] = ORDER_MAILS | {"customer_blocked"}
# The release request names the notice a blocked customer's release is for.
BLOCK_CONFIRMATION = "block_confirmation"


@dataclass(frozen=True)
class NotificationRequest:
    """One notification an event asks for: ids and amounts, no contact data."""

    kind: Kind
    customer_id: UUID
    order_ref: str | None = None
    total_tiyn: int | None = None
    channel: Channel = "email"
    placed_at: datetime | None = None  # of the order (an open obligation while blocked)
    # The inactivity notice: the day after which the account's erasure starts.
    erase_after: date | None = None
    # What else makes this mail one of its kind beside the order (sent once per customer,
    # kind, order and reference): the block's version, the policy's version.
    reference: str | None = None
    order_id: UUID | None = None  # the order's page on the storefront
    payment_method: PaymentMethod | None = None
    payment_url: str | None = None  # the bank's page of an order awaiting payment
    at: datetime | None = None  # when a block or unblock took effect
    effective_date: date | None = None  # of a new policy version

    @property
    def notice(self) -> str | None:
        """What a release for a blocked customer is asked for, beside an order."""
        return BLOCK_CONFIRMATION if self.kind == "customer_blocked" else None

    @property
    def template(self) -> str:
        return self.kind


@dataclass(frozen=True)
class Release:
    """The contact the customers service released for one send: kept in memory only."""

    release_id: UUID
    locale: Locale
    email: str
    first_name: str | None


@dataclass(frozen=True)
class PolicyNotice:
    """A published privacy-policy version every active customer is to be told of."""

    version: str
    notice_id: UUID
    effective_date: date

    def request_for(self, customer_id: UUID) -> NotificationRequest:
        return NotificationRequest(
            kind="policy_published",
            customer_id=customer_id,
            reference=self.version,
            effective_date=self.effective_date,
        )


@dataclass(frozen=True)
class RenderedMail:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class Delivery:
    """A row of the delivery log: what happened, never the address or the name."""

    notification_id: UUID
    customer_id: UUID | None  # None: skipped because the customer is unknown or erased
    kind: Kind
    channel: Channel
    template: str
    locale: Locale | None
    status: Status
    order_ref: str | None
    message_id: UUID
    release_id: UUID | None = None
    reason: str | None = None
    reference: str | None = None


def request_for(event: Contract) -> NotificationRequest | None:
    """The notification an event asks for; None when it names no customer (a refund of an
    order whose customer is erased, or announced by an older sender)."""
    if isinstance(event, CustomerRegistered):
        return NotificationRequest(kind="welcome", customer_id=event.customer_id)
    if isinstance(event, CustomerInactivityNotice):
        return NotificationRequest(
            kind="inactivity_notice", customer_id=event.customer_id, erase_after=event.erase_after
        )
    if isinstance(event, OrderPlaced):
        return _order_request(
            "order_placed",
            event,
            event.customer_id,
            event.total.amount,
            payment_method=event.payment_method,
        )
    if isinstance(event, OrderStatusChanged) and type(event) in _ORDER_KINDS:
        return _order_request(
            _ORDER_KINDS[type(event)],
            event,
            event.customer_id,
            event.total.amount,
            payment_url=event.payment_url if isinstance(event, OrderAwaitingPayment) else None,
        )
    if isinstance(event, PaymentRefunded):
        if event.customer_id is None:
            return None
        return _order_request("order_refunded", event, event.customer_id, event.amount.amount)
    if isinstance(event, CustomerBlockChanged) and type(event) in _BLOCK_KINDS:
        return NotificationRequest(
            kind=_BLOCK_KINDS[type(event)],
            customer_id=event.customer_id,
            reference=f"v{event.version}",
            at=event.at,
        )
    raise ValueError(f"no notification for {type(event).__name__}")


def _order_request(
    kind: Kind,
    event: OrderPlaced | OrderStatusChanged | PaymentRefunded,
    customer_id: UUID,
    total_tiyn: int,
    *,
    payment_method: PaymentMethod | None = None,
    payment_url: str | None = None,
) -> NotificationRequest:
    """An order's mail: the order's reference, page, amount and when it was placed."""
    return NotificationRequest(
        kind=kind,
        customer_id=customer_id,
        order_ref=event.order_ref,
        order_id=event.order_id,
        total_tiyn=total_tiyn,
        placed_at=event.placed_at,
        payment_method=payment_method,
        payment_url=payment_url,
    )


# The refusal of a release for a customer that is unknown or erased: its row names nobody.
GONE = "unknown_or_erased"


def skipped_while_blocked(request: NotificationRequest, blocked: bool) -> bool:
    """A blocked customer gets no mail that is not owed (no release is even asked for)."""
    return blocked and request.kind not in OWED_WHILE_BLOCKED


# The namespace of mail ids (uuid5 of the asking event's message id and the mail's kind).
MAIL_ID_NAMESPACE = UUID("5b0c2f4e-2d7c-4a61-9f3e-0e6c3a1d8b27")


def mail_id(message_id: UUID, kind: str) -> UUID:
    """The id of the mail one event asks for, the same at every delivery of that event: its
    delivery row's id and its Message-ID. SMTP has no exactly-once: a process that dies after
    the server took the mail and before the delivery is recorded sends it again when the
    event comes back, and then as the very same message (one Message-ID), which mail systems
    and clients recognise as one."""
    return uuid5(MAIL_ID_NAMESPACE, f"{message_id}/{kind}")


def delivery_for(
    request: NotificationRequest,
    *,
    notification_id: UUID,
    message_id: UUID,
    status: Status,
    release: Release | None = None,
    reason: str | None = None,
) -> Delivery:
    return Delivery(
        notification_id=notification_id,
        customer_id=None if reason == GONE else request.customer_id,
        kind=request.kind,
        channel=request.channel,
        template=request.template,
        locale=release.locale if release else None,
        status=status,
        order_ref=request.order_ref,
        message_id=message_id,
        release_id=release.release_id if release else None,
        reason=reason,
        reference=request.reference,
    )


def pick_locale(value: str | None) -> Locale:
    """The customer's locale when we have templates for it, else Russian."""
    return cast(Locale, value) if value in LOCALES else DEFAULT_LOCALE


def format_tenge(tiyn: int) -> str:
    """1234550 tiyn -> '12 345,50 ₸' (spaces between thousands, comma before tiyn)."""
    sign = "-" if tiyn < 0 else ""
    tenge, rest = divmod(abs(tiyn), 100)
    return f"{sign}{tenge:,}".replace(",", " ") + f",{rest:02d} ₸"


def template_context(
    request: NotificationRequest, release: Release, public_base_url: str
) -> dict[str, object]:
    base = public_base_url.rstrip("/")
    return {
        "first_name": release.first_name,
        "order_ref": request.order_ref,
        "total": format_tenge(request.total_tiyn) if request.total_tiyn is not None else None,
        "account_url": f"{base}/account/",
        # The storefront's page of the order (status, history, pay while unpaid, cancel).
        "order_url": f"{base}/orders/{request.order_id}" if request.order_id else None,
        "erase_after": _day(request.erase_after),
        "payment_method": request.payment_method,
        "payment_url": request.payment_url,
        "at": _day(request.at.astimezone(ALMATY).date()) if request.at else None,
        "policy_version": request.reference if request.kind == "policy_published" else None,
        "effective_date": _day(request.effective_date),
        "policy_url": f"{base}/account/policy",
    }


def erasure_context(request_id: UUID, first_name: str | None) -> dict[str, object]:
    """The erasure's confirmation: no account link (the account is closed); the request's
    number, as the customer's answer to the erasure showed it."""
    return {"first_name": first_name, "account_url": None, "request_id": str(request_id)}


def _day(value: date | None) -> str | None:
    return value.strftime("%d.%m.%Y") if value else None


def text_paragraphs(text: str) -> list[list[str]]:
    """Plain text split into paragraphs of lines, for the HTML layout."""
    blocks = (block.strip() for block in text.split("\n\n"))
    return [block.splitlines() for block in blocks if block]


@dataclass(frozen=True)
class OutgoingMail:
    """A message ready for the SMTP envelope: the only place the address exists, in memory."""

    sender: str
    recipient: str
    data: bytes

    @property
    def international(self) -> bool:
        """An internationalised address (RFC 6531): the server must offer SMTPUTF8."""
        return not self.recipient.isascii()


def build_email(
    *,
    mail_from: str,
    to: str,
    rendered: RenderedMail,
    locale: Locale,
    notification_id: UUID,
    now: datetime,
    headers: Mapping[str, str] | None = None,
) -> OutgoingMail:
    """Plain text and HTML alternatives, built with the email package's compat32 classes:
    its modern ``EmailMessage`` parses and refolds every header, several ms per message."""
    sender_name, sender = parseaddr(mail_from)
    # A boundary of our own: the generator would otherwise compile a regular expression per
    # message to make sure its random one is absent from the parts (base64, which cannot
    # hold "_" or a line starting with "--").
    message = MIMEMultipart("alternative", boundary=f"==_shop_{notification_id.hex}")
    message["From"] = formataddr((sender_name, sender), charset="utf-8")
    message["To"] = raw_utf8(to)
    message["Subject"] = _header_text(rendered.subject, "Subject")
    message["Date"] = format_datetime(now)
    message["Message-ID"] = f"<{notification_id}@{sender.rpartition('@')[2] or 'localhost'}>"
    message["Auto-Submitted"] = "auto-generated"
    message["Content-Language"] = locale
    for name, value in (headers or {}).items():  # ASCII only: a campaign's list headers
        message[name] = value
    message.attach(MIMEText(rendered.text, "plain", "utf-8"))
    message.attach(MIMEText(rendered.html, "html", "utf-8"))
    return OutgoingMail(sender=sender, recipient=to, data=message.as_bytes(policy=_WIRE))


# compat32 writes a header holding surrogate-escaped bytes as those bytes (when 8-bit is
# allowed) instead of turning it into an RFC 2047 encoded word, which an address must not be:
# an internationalised address goes out as UTF-8, as RFC 6532 wants (sent with SMTPUTF8).
class _Wire(policy.Compat32):
    """compat32 that writes a short ASCII header as it is. compat32 builds and encodes a
    ``Header`` for every header of every part (a quarter of composing a campaign's mail),
    only to write such a value unchanged; anything else still goes that way."""

    def _fold(self, name: str, value: object, sanitize: bool) -> str:
        if (
            isinstance(value, str)
            and value.isascii()
            and len(name) + len(value) + 2 <= _SHORT_HEADER
            and value == " ".join(value.split())  # no folding, runs or edges of whitespace
        ):
            return f"{name}: {value}{self.linesep}"
        folded: str = super()._fold(name, value, sanitize)  # type: ignore[misc]
        return folded


_SHORT_HEADER = 78  # RFC 5322's recommended line length, compat32's folding width
_WIRE = _Wire(linesep="\r\n", cte_type="8bit")


@functools.lru_cache(maxsize=256)  # a campaign's mails share a few subjects (one per locale)
def _header_text(value: str, name: str) -> str:
    """ASCII as it is; anything else as RFC 2047 encoded words sized for the header's line."""
    return value if value.isascii() else Header(value, "utf-8", header_name=name).encode()


def wire_header(name: str, value: str) -> bytes:
    """One header's line(s) as ``build_email`` writes them (a campaign's mail shape fills its
    recipient's headers with this)."""
    return _WIRE.fold_binary(name, value)


def raw_utf8(value: str) -> str:
    """The value's UTF-8 bytes as a surrogate-escaped str (ASCII comes back unchanged)."""
    return value.encode().decode("ascii", "surrogateescape")
