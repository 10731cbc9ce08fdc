"""The data subject's requests and the law's clocks, free of I/O.

Each kind of request has its deadline in working days of Kazakhstan (Law 94-V; DESIGN §7):
change, block, unblock and destroy within 1 (art. 25(2)(8)), an objection to an automated
decision within 3 (art. 19-1), a notice of a transfer to a third party within 10 (art. 19(1)),
a withdrawal of consent within 15 (art. 8(7)). The law sets no number for access (arts. 24,
25(2)(9)): the operator chooses one (a setting); the self-service export answers at once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Literal, get_args

from shared.workdays import due_date

RequestKind = Literal[
    "block",
    "unblock",
    "erase",
    "withdraw_consent",
    "objection",
    "access",
    "rectification",
    "transfer_notice",
]
REQUEST_KINDS: tuple[RequestKind, ...] = get_args(RequestKind)
# What a customer files at POST /me/requests; block, unblock and erase have their own routes,
# and a transfer notice is the operator's duty, filed by the operator.
FILED_BY_CUSTOMER: frozenset[RequestKind] = frozenset(
    {"withdraw_consent", "objection", "access", "rectification"}
)
RequestStatus = Literal["received", "in_progress", "deferred", "completed", "refused"]
CLOSED: frozenset[RequestStatus] = frozenset({"completed", "refused"})

WORKING_DAYS: Mapping[RequestKind, int] = {
    "rectification": 1,
    "block": 1,
    "unblock": 1,
    "erase": 1,
    "objection": 3,
    "transfer_notice": 10,
    "withdraw_consent": 15,
}
DEFAULT_ACCESS_WORKING_DAYS = 10


def working_days(kind: RequestKind, access_days: int = DEFAULT_ACCESS_WORKING_DAYS) -> int:
    return access_days if kind == "access" else WORKING_DAYS[kind]


def request_due(
    kind: RequestKind, filed_at: datetime, access_days: int = DEFAULT_ACCESS_WORKING_DAYS
) -> date:
    """The day by which a request of ``kind`` filed at ``filed_at`` must be answered."""
    return due_date(filed_at, working_days(kind, access_days))


def is_overdue(due: date, status: RequestStatus, today: date) -> bool:
    return status not in CLOSED and today > due


# --- Answers of the privacy officer's desk ----------------------------------------------------

Outcome = Literal["completed", "refused"]
# Why a request is refused (the officer's answer says it in words as well).
RefusalReason = Literal[
    "open_obligation",  # art. 8(2): a contract still being performed (an order in delivery)
    "legal_obligation",  # a law requires the data to be kept or processed
    "decision_upheld",  # an objection reviewed: the automated decision was right
    "identity_not_confirmed",
    "unfounded",
]
# What the desk's queue shows: the open requests (default), all, or those of one status.
QueueStatus = Literal["open", "all", "received", "in_progress", "deferred", "completed", "refused"]


# --- Erasure: what defers it (Law 94-V art. 8(2)) ----------------------------------------------

ErasureReason = Literal["open_order", "open_refund", "checking"]
# The services that hold the customer's id and confirm they removed it (catalog holds
# nothing about a person; customers itself shreds in the request's own transaction).
CONFIRMING_SERVICES: tuple[str, ...] = ("orders", "notifications")

DEFERRAL_TEXT: Mapping[ErasureReason, str] = {
    "open_order": "An order of yours is still on its way (Law 94-V art. 8(2)): your account is"
    " closed now, and the data needed to deliver it is kept only until the order is delivered"
    " or cancelled; then it is erased without anything more from you.",
    "open_refund": "A refund to your card is still open (Law 94-V art. 8(2)): your account is"
    " closed now, and your data is erased as soon as the bank confirms the refund.",
    "checking": "Your account is closed now. We could not yet check whether an order of yours"
    " is still open; the check is repeated automatically and your data is erased as soon as"
    " nothing is open.",
}
COMPLETES_WHEN: Mapping[ErasureReason, str] = {
    "open_order": "when the orders listed are delivered or cancelled",
    "open_refund": "when the bank confirms the refund",
    "checking": "as soon as the check shows nothing open",
}


@dataclass(frozen=True)
class Deferral:
    reason: ErasureReason
    order_refs: tuple[str, ...]


def deferral_for(open_items: Sequence[Mapping[str, str]] | None) -> Deferral | None:
    """Why an erasure waits, from orders' open obligations (None: orders did not answer);
    None when nothing is open and the data can go now. An order in delivery outranks a
    refund (it needs the address)."""
    if open_items is None:
        return Deferral("checking", ())
    if not open_items:
        return None
    refs = tuple(dict.fromkeys(item["order_ref"] for item in open_items))
    kinds = {item["kind"] for item in open_items}
    return Deferral("open_order" if "order" in kinds else "open_refund", refs)
