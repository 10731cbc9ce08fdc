"""The delete page (``/account/delete``): erasure for real, through the same use case as
``DELETE /api/customers/me`` (``erasure.request_erasure``: the password again, the account
closed at once, the data destroyed or, with an order in delivery, kept until it ends).
What happens, what waits and what stays is said on the page. Thin handlers."""

from __future__ import annotations

from aiohttp import web

from shared.logging import get_logger

from .. import erasure
from ..accounts import BadCredentials
from ..keys import COOKIES, CUSTOMER, MAIN_APP
from ..network import network_of
from ..throttle import Throttled
from . import forms
from .context import render, require_signed_in

log = get_logger("customers.account_pages")


async def delete_page(
    request: web.Request,
    *,
    status: int = 200,
    errors: forms.FieldErrors | None = None,
    notice: str | None = None,
) -> web.Response:
    require_signed_in(request)
    return render(
        request, "delete.html", "delete.title", status=status, errors=errors or {}, notice=notice
    )


async def delete_save(request: web.Request) -> web.Response:
    """Erase; on success the browser's session is gone with the rest, and the answer (done,
    or waiting for an order, and why) is shown once, signed out."""
    customer_id = require_signed_in(request)
    form = await request.post()
    password = form.get("password")
    errors: forms.FieldErrors = {}
    if not forms.checked(form, "confirm"):
        errors["confirm"] = "delete.confirm_required"
    if not isinstance(password, str) or not password:
        errors["password"] = "err.required"
    if errors or not isinstance(password, str):
        return await delete_page(request, status=422, errors=errors)
    try:
        answer = await erasure.request_erasure(
            request.config_dict[MAIN_APP], customer_id, password, network_of(request)
        )
    except BadCredentials:
        return await delete_page(request, status=403, errors={"password": "delete.wrong_password"})
    except Throttled as exc:
        response = await delete_page(request, status=429, notice="delete.throttled")
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    request.pop(CUSTOMER, None)  # signed out: the page shows no account menu
    response = render(request, "delete_done.html", "delete.done_title", answer=answer)
    cookies = request.config_dict[COOKIES]
    cookies.clear(response, cookies.session)
    return response


def add_routes(router: web.UrlDispatcher) -> None:
    router.add_get("/delete", delete_page)
    router.add_post("/delete", delete_save)
