"""HTML forms to the API's own models, and validation errors to messages by field.

The pages validate with the same pydantic models as the JSON API (``domain``); only the
shape differs (flat form fields, address parts as ``delivery_address.city`` and so on).
Messages never quote the value sent.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Final

from pydantic import ValidationError

ADDRESS_PARTS: Final = ("city", "street", "house", "apartment", "postal_code", "comment")
PERSON_FIELDS: Final = ("last_name", "first_name", "patronymic", "phone", "email")
REQUIRED: Final = ("last_name", "first_name", "phone", "email")
NO_ECHO: Final = frozenset({"password", "csrf_token"})

Form = Mapping[str, Any]
FieldErrors = dict[str, str]  # form field name -> message key


def text(form: Form, name: str) -> str | None:
    """A field's value without surrounding spaces; empty or absent is None."""
    value = form.get(name)
    if not isinstance(value, str):
        return None
    return value.strip() or None


def checked(form: Form, name: str) -> bool:
    return form.get(name) == "on"


def address(form: Form) -> dict[str, str | None]:
    return {part: text(form, f"delivery_address.{part}") for part in ADDRESS_PARTS}


def person(form: Form) -> dict[str, Any]:
    return {name: text(form, name) for name in PERSON_FIELDS}


def echo(form: Form) -> dict[str, str]:
    """What to put back in the fields after an error: everything but secrets."""
    return {k: v for k, v in form.items() if isinstance(v, str) and k not in NO_ECHO}


def registration(form: Form, policy_version: str | None, lang: str) -> dict[str, Any]:
    data = {k: v for k, v in person(form).items() if v is not None}
    data["password"] = form.get("password") or ""
    data["delivery_address"] = {k: v for k, v in address(form).items() if v is not None}
    data["accept_policy_version"] = policy_version or ""
    data["marketing"] = {
        "email": checked(form, "marketing_email"),
        "sms": checked(form, "marketing_sms"),
    }
    data["cross_border_transfer"] = checked(form, "cross_border_transfer")
    data["locale"] = lang
    return data


def profile_patch(form: Form) -> tuple[dict[str, Any], FieldErrors]:
    """The patch of the edit form (an emptied patronymic removes it) and the required fields
    left empty (which the API would refuse as a removal)."""
    data: dict[str, Any] = person(form)
    data["delivery_address"] = {k: v for k, v in address(form).items() if v is not None}
    missing: FieldErrors = {}
    for name in REQUIRED:
        if data[name] is None:
            missing[name] = "err.required"
            del data[name]
    return data, missing


def field_errors(exc: ValidationError) -> FieldErrors:
    errors: FieldErrors = {}
    for error in exc.errors(include_url=False, include_input=False):
        loc = [str(part) for part in error["loc"]]
        name = ".".join(loc) if loc else "_form"
        errors.setdefault(name, message_key(name, error["type"]))
    return errors


def message_key(name: str, kind: str) -> str:
    if kind in ("missing", "string_too_short", "too_short"):
        return "err.password" if name == "password" else "err.required"
    if kind == "string_too_long":
        return "err.too_long"
    if name == "phone":
        return "err.phone"
    if name == "email":
        return "err.email"
    if name.endswith("postal_code"):
        return "err.postal_code"
    return "err.invalid"
