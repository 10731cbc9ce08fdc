"""The customers API's one mapping of refusals to problems (inside the shared middleware).

Problems never echo a value that was sent (it may be personal data).
"""

from __future__ import annotations

from aiohttp import web

from shared.http import Handler, Problem, problem_response, route_path

from .. import breaches, request_desk, storage
from ..accounts import PolicyAcceptanceRequired, PolicyMismatch
from ..domain import PurposeNotAllowed, TransferAbroadNotAllowed
from ..personal_data import CustomerBlocked, CustomerUnavailable
from ..subject_requests import RequestNotFound
from ..support import OrderClosed, OrderNotFound, OrdersUnavailable
from ..throttle import Throttled

TRANSFER_ABROAD_NOT_ALLOWED = "transfer-abroad-not-allowed"

POLICY_ACCEPTANCE_REQUIRED = "policy-acceptance-required"


@web.middleware
async def domain_errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Turn the service's refusals into problems (inside the shared problem middleware)."""
    try:
        return await handler(request)
    except CustomerUnavailable:
        raise Problem(404, "Not found", "No such customer, or their data is erased.") from None
    except RequestNotFound:
        raise Problem(404, "Not found", "No such request.") from None
    except request_desk.NotForTheDesk:
        raise Problem(
            409,
            "Not answered at the desk",
            "Block, unblock and erasure requests close through their own routes;"
            " access requests answer themselves.",
        ) from None
    except request_desk.AlreadyAnswered:
        raise Problem(409, "Already answered", "This request is completed or refused.") from None
    except breaches.BreachNotFound:
        raise Problem(404, "Not found", "No such breach.") from None
    except breaches.UnknownCustomers as exc:
        raise Problem(
            422,
            "Unknown customers",
            "Some customer ids are not customers of the shop.",
            unknown=exc.count,
        ) from None
    except breaches.NoticeAlreadySent:
        raise Problem(409, "Notice already sent", "This breach's notice is marked sent.") from None
    except CustomerBlocked:
        raise Problem(409, "Blocked", "Processing of this customer's data is blocked.") from None
    except TransferAbroadNotAllowed as exc:
        raise Problem(
            403,
            "Transfer abroad not allowed",
            "The recipient is outside Kazakhstan and the customer has not consented to"
            " transfers abroad (Law 94-V art. 16).",
            type=TRANSFER_ABROAD_NOT_ALLOWED,
            country=exc.country,
        ) from None
    except PurposeNotAllowed as exc:
        raise Problem(403, "Purpose not allowed", str(exc)) from None
    except OrderNotFound:
        raise Problem(404, "Not found", "No such order.") from None
    except OrderClosed:
        raise Problem(
            409,
            "Order closed",
            "This order was closed too long ago for support to contact its customer.",
        ) from None
    except OrdersUnavailable:
        raise Problem(503, "Orders unavailable", "The orders service did not answer.") from None
    except storage.Conflict:
        raise Problem(
            409, "Already registered", "An account with this email or phone already exists."
        ) from None
    except PolicyMismatch as exc:
        raise Problem(
            409,
            "Policy version mismatch",
            "Read and accept the current privacy policy version.",
            current_version=exc.current,
        ) from None
    except PolicyAcceptanceRequired as exc:
        raise Problem(
            403,
            "Policy acceptance required",
            "A new privacy policy version is in effect; read and accept it first"
            " (POST /api/customers/me/policy-acceptance).",
            type=POLICY_ACCEPTANCE_REQUIRED,
            policy_version=exc.current,
        ) from None
    except Throttled as exc:
        response = problem_response(
            429,
            "Too many attempts",
            "Too many failed sign-ins; try again later.",
            route_path(request),
            retry_after=exc.retry_after,
        )
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
