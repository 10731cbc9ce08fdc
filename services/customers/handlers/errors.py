"""The customers API's one mapping of refusals to problems (inside the shared middleware).

Problems never echo a value that was sent (it may be personal data).
"""

from __future__ import annotations

from aiohttp import web

from shared.http import Handler, Problem, problem_response, route_path

from .. import storage
from ..accounts import PolicyAcceptanceRequired, PolicyMismatch
from ..domain import PurposeNotAllowed
from ..personal_data import CustomerBlocked, CustomerUnavailable
from ..subject_requests import RequestNotFound
from ..throttle import Throttled

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
    except CustomerBlocked:
        raise Problem(409, "Blocked", "Processing of this customer's data is blocked.") from None
    except PurposeNotAllowed as exc:
        raise Problem(403, "Purpose not allowed", str(exc)) from None
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
