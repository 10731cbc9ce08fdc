"""Cookies, CSRF tokens and security headers of the account pages.

CSRF: a synchronizer token bound to the browser. Signed in, the token is an HMAC of the
session id; before sign-in (sign-up and sign-in forms) an HMAC of a random value kept in its
own cookie (signed double submit). The HMAC key is derived from the master key (HKDF, own
label), so a token cannot be forged without both the cookie and the server key.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets
from typing import Final

from aiohttp import web
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from .config import WebConfig

CSRF_FIELD: Final = "csrf_token"
CSP: Final = (
    "default-src 'self'; script-src 'none'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'; img-src 'self'; style-src 'self'"
)
HEADERS: Final = {
    "Content-Security-Policy": CSP,
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "X-Content-Type-Options": "nosniff",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def derive_csrf_key(master_key: bytes) -> bytes:
    return HKDF(
        algorithm=hashes.SHA256(), length=32, salt=None, info=b"customers/account-pages/csrf/v1"
    ).derive(master_key)


class Cookies:
    """Names and attributes of the page cookies (``__Host-`` names when Secure)."""

    def __init__(self, config: WebConfig) -> None:
        self.secure = config.cookie_secure
        prefix = "__Host-" if self.secure else ""
        self.session = f"{prefix}account_session"
        self.anon = f"{prefix}account_csrf"
        self.max_age_s = config.session_max_age_s

    def set(self, response: web.StreamResponse, name: str, value: str, max_age: int | None) -> None:
        response.set_cookie(
            name,
            value,
            max_age=max_age,
            path="/",
            secure=self.secure,
            httponly=True,
            samesite="Strict",
        )

    def clear(self, response: web.StreamResponse, name: str) -> None:
        response.del_cookie(name, path="/", secure=self.secure, httponly=True, samesite="Strict")


def new_anon_value() -> str:
    return secrets.token_urlsafe(32)


def csrf_token(key: bytes, binding: str) -> str:
    mac = hmac.new(key, binding.encode(), hashlib.sha256).digest()
    return base64.urlsafe_b64encode(mac).rstrip(b"=").decode()


def csrf_valid(key: bytes, binding: str | None, presented: str | None) -> bool:
    if not binding or not presented:
        return False
    return hmac.compare_digest(csrf_token(key, binding).encode(), presented.encode())


def same_origin(request: web.Request) -> bool:
    """A second line behind the token: what the browser says about where a form came from.

    Sec-Fetch-Site, when sent, must be same-origin (or none: typed by the user). Origin, when
    it names an origin, must be this host; with Referrer-Policy no-referrer browsers send
    "Origin: null" for their own forms, which says nothing either way.
    """
    site = request.headers.get("Sec-Fetch-Site")
    if site is not None and site not in ("same-origin", "none"):
        return False
    origin = request.headers.get("Origin")
    if origin is None or origin == "null":
        return True
    return origin.split("://", 1)[-1] == request.headers.get("Host", "")


def apply_headers(response: web.StreamResponse, *, cacheable: bool) -> None:
    for name, value in HEADERS.items():
        response.headers[name] = value
    if not cacheable:
        response.headers["Cache-Control"] = "no-store"
        response.headers["Pragma"] = "no-cache"
