"""Notice of a transfer the consent did not name (Law 94-V art. 19(1), 10 working days).

The processing consent names the third parties data goes to (couriers, banks: policy 4.3.2)
and the consent to transfers abroad names the recipients abroad at the time it was given.
Every release is in the customer's disclosure register at once; a release to a recipient
neither consent named also files a ``transfer_notice`` request on the privacy officer's desk,
due in 10 working days, once per customer and recipient: the officer tells the customer (and
checks the transfer) and completes it. Legal disclosures to state bodies (art. 9) are not
noticed here: the desk decides whether the law lets the subject be told.
"""

from __future__ import annotations

from shared.db import DbConn
from shared.logging import get_logger

from . import storage, subject_requests
from .domain import HOME_COUNTRY, THIRD_PARTY_CATEGORY, unnamed_transfer
from .personal_data import PdGate, Released

log = get_logger("customers.transfer_notices")
FILED_BY = "system:releases"


def notice_text(released: Released) -> str:
    """What the request says (sealed under the customer's key like any request's detail)."""
    return (
        f"Your data was released to {released.recipient} ({released.country}), a recipient"
        f" your consent did not name (release {released.release_id}). Law 94-V art. 19(1):"
        " you are told of it within 10 working days."
    )


async def notice_if_unnamed(conn: DbConn, gate: PdGate, released: Released) -> None:
    """File the transfer notice for a release to a recipient the consent did not name (in
    the release's transaction); nothing for a recipient named or already noticed."""
    third_party = released.kind in THIRD_PARTY_CATEGORY
    if not third_party and released.country == HOME_COUNTRY:
        return  # our own services and staff at home: no transfer to a third party
    if await storage.transfer_notice_filed(
        conn, released.customer_id, released.kind, released.recipient
    ):
        return
    processing = await storage.latest_record(conn, released.customer_id, "pd_processing")
    abroad = await storage.latest_record(conn, released.customer_id, "cross_border")
    if not unnamed_transfer(
        released.kind, released.recipient, released.country, processing, abroad
    ):
        return
    request = await subject_requests.file(
        conn,
        gate,
        released.customer_id,
        "transfer_notice",
        filed_by=FILED_BY,
        detail=notice_text(released),
    )
    await storage.claim_transfer_notice(
        conn,
        customer_id=released.customer_id,
        kind=released.kind,
        recipient=released.recipient,
        country=released.country,
        request_id=request.id,
        release_id=released.release_id,
    )
    log.info("transfer notice filed", request_id=str(request.id), country=released.country)
