"""The signed-in customer's pages: profile, consents, the disclosure register, the export
(blocking is ``block_pages.py``, deleting the account ``delete_pages.py``). Thin handlers
over ``Accounts`` and ``storage``."""

from __future__ import annotations

import json
from datetime import date, datetime
from typing import Any
from uuid import UUID

from aiohttp import web
from pydantic import ValidationError

from shared.db import PG_POOL
from shared.logging import get_logger

from .. import storage
from ..export import export_document
from ..keys import ACCOUNTS, MAIN_APP
from ..request_models import MarketingChoice, ProfilePatch
from . import forms
from .context import PROFILE, actor, render, require_signed_in, see_other, when

log = get_logger("customers.account_pages")


# --- Profile ---------------------------------------------------------------------------------


async def read_profile(request: web.Request, customer_id: UUID) -> dict[str, Any]:
    async with request.config_dict[PG_POOL].acquire() as conn, conn.transaction():
        return await request.config_dict[ACCOUNTS].profile(conn, customer_id, actor(customer_id))


def profile_values(profile: dict[str, Any]) -> dict[str, str]:
    values = {name: profile.get(name) or "" for name in forms.PERSON_FIELDS}
    address = profile.get("delivery_address") or {}
    for part in forms.ADDRESS_PARTS:
        values[f"delivery_address.{part}"] = address.get(part) or ""
    values["locale"] = profile.get("locale") or "ru"
    return values


async def profile_page(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    profile = await read_profile(request, customer_id)
    return render(
        request, "profile.html", "profile.title", profile=profile, saved="saved" in request.query
    )


def _edit_page(
    request: web.Request, *, values: dict[str, str], status: int = 200, **context: Any
) -> web.Response:
    return render(
        request, "profile_edit.html", "profile.edit_title", status=status, values=values, **context
    )


async def profile_edit_form(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    profile = await read_profile(request, customer_id)
    return _edit_page(request, values=profile_values(profile))


async def profile_edit(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    form = await request.post()
    data, errors = forms.profile_patch(form)
    locale = form.get("locale")
    if locale in ("ru", "kk", "en"):
        data["locale"] = locale
    patch: ProfilePatch | None = None
    try:
        patch = ProfilePatch.model_validate(data)
    except ValidationError as exc:
        errors = {**forms.field_errors(exc), **errors}
    if errors or patch is None:
        return _edit_page(request, values=forms.echo(form), status=422, errors=errors)
    accounts = request.config_dict[ACCOUNTS]
    try:
        async with request.config_dict[PG_POOL].acquire() as conn, conn.transaction():
            await accounts.require_current_policy(conn, customer_id)
            await accounts.patch_profile(conn, customer_id, patch)
    except storage.Conflict:
        return _edit_page(request, values=forms.echo(form), status=409, notice="profile.taken")
    return see_other(PROFILE + "?saved=1")


# --- Consents --------------------------------------------------------------------------------


async def consents_page(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    async with request.config_dict[PG_POOL].acquire() as conn:
        consents = await request.config_dict[ACCOUNTS].consents(conn, customer_id)
    return render(
        request,
        "consents.html",
        "consents.title",
        consents=consents,
        saved="saved" in request.query,
        at=when_text,
    )


async def consents_save(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    form = await request.post()
    choice = MarketingChoice(
        email=forms.checked(form, "marketing_email"), sms=forms.checked(form, "marketing_sms")
    )
    abroad = forms.checked(form, "cross_border_transfer")
    accounts = request.config_dict[ACCOUNTS]
    async with request.config_dict[PG_POOL].acquire() as conn, conn.transaction():
        if choice.email or choice.sms or abroad:  # withdrawing is always possible
            await accounts.require_current_policy(conn, customer_id)
        await accounts.set_marketing(conn, customer_id, choice)
        await accounts.set_cross_border(conn, customer_id, abroad)
    return see_other("/account/consents?saved=1")


# --- Disclosure register, export -------------------------------------------------------------


async def disclosures_page(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    async with request.config_dict[PG_POOL].acquire() as conn:
        rows = await storage.disclosures(conn, customer_id)
    return render(request, "disclosures.html", "disclosures.title", rows=rows)


async def export_page(request: web.Request) -> web.Response:
    """The export, readable: every section of the download, in the page's language."""
    customer_id = require_signed_in(request)
    document = await export_document(request.config_dict[MAIN_APP], customer_id)
    return render(
        request,
        "export.html",
        "export.title",
        doc=document,
        notes=document.get("notes", {}),
        sections=EXPORT_PAGE_SECTIONS,
        at=when_text,
        day=day_text,
        money=money_text,
    )


EXPORT_PAGE_SECTIONS = (
    *("profile", "consents", "suppressions", "disclosures", "orders", "cart", "decisions"),
    "notifications",
    *("requests", "sessions", "audit"),
)


def when_text(value: str | None) -> str:
    """An ISO time of the export document as the pages show times (Almaty)."""
    return when(datetime.fromisoformat(value)) if value else "—"


def day_text(value: str) -> str:
    return date.fromisoformat(value).strftime("%d.%m.%Y")


def money_text(value: dict[str, Any]) -> str:
    """``{"amount": tiyn, "currency": "KZT"}`` as 1 500,00 ₸."""
    amount = int(value.get("amount", 0))
    whole = f"{amount // 100:,}".replace(",", "\u00a0")
    sign = "₸" if value.get("currency", "KZT") == "KZT" else str(value.get("currency"))
    return f"{whole},{amount % 100:02d}\u00a0{sign}"


async def export_download(request: web.Request) -> web.Response:
    customer_id = require_signed_in(request)
    document = await export_document(request.config_dict[MAIN_APP], customer_id)
    return web.Response(
        text=json.dumps(document, ensure_ascii=False, indent=2, default=str),
        content_type="application/json",
        charset="utf-8",
        headers={"Content-Disposition": 'attachment; filename="my-data.json"'},
    )


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/profile", profile_page)
    router.add_get("/profile/edit", profile_edit_form)
    router.add_post("/profile/edit", profile_edit)
    router.add_get("/consents", consents_page)
    router.add_post("/consents", consents_save)
    router.add_get("/disclosures", disclosures_page)
    router.add_get("/export", export_page)
    router.add_get("/export/my-data.json", export_download)
