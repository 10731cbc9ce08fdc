"""The privacy officer's desk (role privacy_officer): the queue of data-subject requests and
their answers, the breach register and its notices, legal disclosures to state bodies. The
handlers parse, call the use case, answer; their refusals are mapped in ``errors.py``."""

from __future__ import annotations

from typing import Any
from uuid import UUID

from aiohttp import web

from shared.auth import require_role
from shared.db import PG_POOL
from shared.http import Problem, json_response, query_model, read_json
from shared.logging import get_logger

from .. import breaches, legal_disclosures, request_desk
from ..keys import ACCOUNTS, SETTINGS
from ..request_models import (
    BreachIn,
    BreachPatch,
    DeskPage,
    LegalDisclosureIn,
    LegalDisclosuresQuery,
    RequestsQuery,
    ResolveIn,
)

ROLE = "privacy_officer"
NO_STORE = {"Cache-Control": "no-store"}
log = get_logger("customers.privacy")


def path_uuid(request: web.Request, name: str) -> UUID:
    try:
        return UUID(request.match_info[name])
    except ValueError:
        raise Problem(404, "Not found", "No such resource.") from None


def page_response(items: list[dict[str, Any]], next_cursor: str | None) -> web.Response:
    """One page of a desk listing; never cached (it names customers' requests and data)."""
    return json_response({"items": items, "next_cursor": next_cursor}, headers=NO_STORE)


# --- Requests of data subjects --------------------------------------------------------------


async def list_requests(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    query = query_model(request, RequestsQuery)
    async with request.app[PG_POOL].acquire() as conn:
        page = await request_desk.queue(
            conn, status=query.status, kind=query.kind, limit=query.limit, cursor=query.cursor
        )
    return page_response(page.items, page.next_cursor)


async def get_request(request: web.Request) -> web.Response:
    """One request with the customer's own words (the read is audited)."""
    officer = require_role(request, ROLE)
    request_id = path_uuid(request, "request_id")
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        item = await request_desk.one_request(
            conn, request.app[ACCOUNTS].gate, request_id, officer.subject
        )
    return json_response(item, headers=NO_STORE)


async def resolve_request(request: web.Request) -> web.Response:
    officer = require_role(request, ROLE)
    request_id = path_uuid(request, "request_id")
    body = await read_json(request, ResolveIn)
    async with request.app[PG_POOL].acquire() as conn:
        async with conn.transaction():
            done = await request_desk.resolve(
                conn,
                request.app,
                request_id,
                outcome=body.outcome,
                answer=body.answer,
                reason=body.reason,
                officer=officer.subject,
            )
        erasure = await request_desk.after_answer(request.app, conn, done)
    # Never the answer: staff words about a person.
    answered = done.request
    log.info(
        "request answered",
        request_id=str(request_id),
        kind=answered.kind,
        outcome=answered.status,
        reason=answered.reason,
        erasure_id=str(done.erasure_id) if done.erasure_id else None,
    )
    item = request_desk.desk_item(answered)
    if erasure is not None:
        item["erasure"] = erasure
    return json_response(item, headers=NO_STORE)


# --- Breach register -----------------------------------------------------------------------


async def post_breach(request: web.Request) -> web.Response:
    officer = require_role(request, ROLE)
    body = await read_json(request, BreachIn)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        row = await breaches.record_breach(
            conn,
            description=body.description,
            measures=body.measures,
            detected_at=body.detected_at,
            customer_ids=body.customer_ids,
            officer=officer.subject,
        )
    # Never the description or the measures: staff text that may name people.
    log.info("breach recorded", breach_id=str(row.id), subjects=row.subjects)
    return json_response(
        breaches.breach_item(row, breaches.today_in_almaty()), status=201, headers=NO_STORE
    )


async def list_breaches(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    query = query_model(request, DeskPage)
    async with request.app[PG_POOL].acquire() as conn:
        page = await breaches.page_of_breaches(conn, query.limit, query.cursor)
    return page_response(page.items, page.next_cursor)


async def get_breach(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    breach_id = path_uuid(request, "breach_id")
    async with request.app[PG_POOL].acquire() as conn:
        item = await breaches.one_breach(conn, breach_id)
    return json_response(item, headers=NO_STORE)


async def patch_breach(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    breach_id = path_uuid(request, "breach_id")
    body = await read_json(request, BreachPatch)
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        item = await breaches.amend_breach(
            conn, breach_id, measures=body.measures, add_customer_ids=body.add_customer_ids
        )
    log.info("breach amended", breach_id=str(breach_id), subjects=item["subjects"])
    return json_response(item, headers=NO_STORE)


async def get_notice(request: web.Request) -> web.Response:
    """The notice's draft: it carries the affected subjects' name and mobile number."""
    officer = require_role(request, ROLE)
    breach_id = path_uuid(request, "breach_id")
    settings = request.app[SETTINGS]
    accounts = request.app[ACCOUNTS]
    responsible = breaches.Responsible(
        settings.privacy_officer_name, settings.privacy_officer_contact
    )
    async with request.app[PG_POOL].acquire() as conn, accounts.gate.transaction(conn):
        draft = await breaches.notice_draft(
            conn,
            accounts.gate,
            breach_id,
            operator=accounts.operator,
            responsible=responsible,
            officer=officer.subject,
        )
    log.info("breach notice drafted", breach_id=str(breach_id), subjects=len(draft["subjects"]))
    return json_response(draft, headers=NO_STORE)


async def post_notice_sent(request: web.Request) -> web.Response:
    officer = require_role(request, ROLE)
    breach_id = path_uuid(request, "breach_id")
    async with request.app[PG_POOL].acquire() as conn, conn.transaction():
        item = await breaches.mark_notice_sent(conn, breach_id, officer.subject)
    log.info("breach notice sent", breach_id=str(breach_id), overdue=item["overdue"])
    return json_response(item, headers=NO_STORE)


# --- Legal disclosures (art. 9) -------------------------------------------------------------


async def post_legal_disclosure(request: web.Request) -> web.Response:
    """Release fields to a state body; the officer receives the values to hand over."""
    officer = require_role(request, ROLE)
    body = await read_json(request, LegalDisclosureIn)
    gate = request.app[ACCOUNTS].gate
    async with request.app[PG_POOL].acquire() as conn, gate.transaction(conn):
        done = await legal_disclosures.disclose(
            conn,
            gate,
            customer_id=body.customer_id,
            authority=body.authority,
            basis=body.basis,
            fields=body.fields,
            confidential=body.confidential,
            confidentiality_ref=body.confidentiality_ref,
            officer=officer.subject,
        )
    log.info(
        "legal disclosure",
        disclosure_id=str(done.row.id),
        fields=done.row.fields,
        confidential=done.row.confidential,
    )
    return json_response(
        {**legal_disclosures.legal_item(done.row), "values": done.values},
        status=201,
        headers=NO_STORE,
    )


async def list_legal_disclosures(request: web.Request) -> web.Response:
    require_role(request, ROLE)
    query = query_model(request, LegalDisclosuresQuery)
    async with request.app[PG_POOL].acquire() as conn:
        page = await legal_disclosures.page_of_disclosures(
            conn, query.limit, query.cursor, query.customer_id
        )
    return page_response(page.items, page.next_cursor)
