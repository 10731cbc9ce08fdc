"""Access tokens: EdDSA-signed JWTs that any service verifies with the public key alone.

Tokens carry a subject id, a kind (customer or staff), roles, the session id (``sid``, a
customer's refresh-session family) and ``iat`` in milliseconds; never personal data. The
customers service holds the private key and issues them; the others only verify, and refuse
a token that ``shared.revocations`` knows is revoked (logout, password change, erasure).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass
from typing import Literal, Protocol
from uuid import UUID, uuid4

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from shared.http import Handler, Problem

ISSUER = "shop.customers"
AUDIENCE = "shop"
STAFF_ROLES = frozenset({"catalog_manager", "marketer", "privacy_officer", "support", "analyst"})
PrincipalKind = Literal["customer", "staff"]


@dataclass(frozen=True)
class Principal:
    subject: UUID
    kind: PrincipalKind
    roles: frozenset[str]
    session_id: UUID | None = None
    issued_at: float = 0.0


class RevocationCheck(Protocol):
    def revoked(self, subject: UUID, session_id: UUID | None, issued_at: float) -> bool: ...


PRINCIPAL = web.RequestKey("principal", Principal)


def generate_signing_key_pem() -> tuple[str, str]:
    """A new Ed25519 key pair as (private PEM, public PEM); for `make up` and tests."""
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


def ed25519_thumbprint(raw_public_key: bytes) -> str:
    """RFC 7638 thumbprint of an Ed25519 public key (the ``kid`` the JWKS publishes)."""
    x = base64.urlsafe_b64encode(raw_public_key).rstrip(b"=").decode()
    members = json.dumps({"crv": "Ed25519", "kty": "OKP", "x": x}, separators=(",", ":"))
    digest = hashlib.sha256(members.encode()).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


class TokenIssuer:
    def __init__(self, private_key_pem: str, *, ttl_s: int = 900) -> None:
        key = serialization.load_pem_private_key(private_key_pem.encode(), password=None)
        if not isinstance(key, Ed25519PrivateKey):
            raise ValueError("the signing key must be an Ed25519 private key")
        self._key = key
        self.ttl_s = ttl_s
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.kid = ed25519_thumbprint(raw)

    def issue(
        self,
        subject: UUID,
        kind: PrincipalKind,
        roles: frozenset[str] = frozenset(),
        session_id: UUID | None = None,
    ) -> str:
        now = time.time()
        claims: dict[str, object] = {
            "iss": ISSUER,
            "aud": AUDIENCE,
            "sub": str(subject),
            "kind": kind,
            "roles": sorted(roles),
            "iat": round(now, 3),  # a revoke-all refuses tokens issued up to its time
            "exp": int(now) + self.ttl_s,
            "jti": str(uuid4()),
        }
        if session_id is not None:
            claims["sid"] = str(session_id)
        return jwt.encode(claims, self._key, algorithm="EdDSA", headers={"kid": self.kid})


class TokenVerifier:
    """Verifies access tokens. A token that verified is remembered, with its principal, until
    its ``exp`` (a small bounded cache, oldest out first): a shopper's requests carry the same
    token, and the signature of a token cannot change. Invalid tokens are never cached.
    Revocation is checked on every call, cached or not (``revocations``: two dict lookups)."""

    def __init__(
        self,
        public_key_pem: str,
        *,
        cache_size: int = 4096,
        revocations: RevocationCheck | None = None,
    ) -> None:
        key = serialization.load_pem_public_key(public_key_pem.encode())
        if not isinstance(key, Ed25519PublicKey):
            raise ValueError("the verification key must be an Ed25519 public key")
        self._key = key
        self._cache_size = cache_size
        self._verified: dict[str, tuple[Principal, float]] = {}  # token -> (principal, exp)
        self.revocations = revocations

    def verify(self, token: str) -> Principal:
        principal = self._signed(token)
        if self.revocations is not None and self.revocations.revoked(
            principal.subject, principal.session_id, principal.issued_at
        ):
            raise Problem(401, "Unauthorized", "The access token is invalid or expired.")
        return principal

    def _signed(self, token: str) -> Principal:
        cached = self._verified.get(token)
        if cached is not None:
            principal, expires_at = cached
            if time.time() < expires_at:
                return principal
            del self._verified[token]
        principal, expires_at = self._verify(token)
        if len(self._verified) >= self._cache_size:
            del self._verified[next(iter(self._verified))]
        self._verified[token] = (principal, expires_at)
        return principal

    def _verify(self, token: str) -> tuple[Principal, float]:
        try:
            claims = jwt.decode(
                token,
                self._key,
                algorithms=["EdDSA"],
                audience=AUDIENCE,
                issuer=ISSUER,
                options={"require": ["exp", "iat", "sub", "iss", "aud"]},
            )
            kind = claims.get("kind")
            if kind not in ("customer", "staff"):
                raise jwt.InvalidTokenError("unknown kind")
            roles = frozenset(claims.get("roles") or ())
            if (kind == "customer" and roles) or not roles <= STAFF_ROLES:
                raise jwt.InvalidTokenError("roles do not fit the kind")
            sid = claims.get("sid")
            principal = Principal(
                subject=UUID(claims["sub"]),
                kind=kind,
                roles=roles,
                session_id=UUID(sid) if isinstance(sid, str) else None,
                issued_at=float(claims["iat"]),
            )
            return principal, float(claims["exp"])
        except (jwt.InvalidTokenError, ValueError):
            raise Problem(401, "Unauthorized", "The access token is invalid or expired.") from None


TOKEN_VERIFIER = web.AppKey("token_verifier", TokenVerifier)


AUTH_REFUSAL = web.RequestKey("auth_refusal", Problem)


@web.middleware
async def auth_middleware(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Verify a bearer token when one is sent; handlers decide whether one is required.

    A bad one (malformed, expired, revoked) is kept as the refusal ``require_customer`` and
    ``require_role`` raise: a route that needs no token (login, refresh, register) ignores
    it, so a client that sends its stale token along can still sign in or refresh."""
    header = request.headers.get("Authorization", "")
    if header:
        try:
            request[PRINCIPAL] = _bearer(request, header)
        except Problem as refusal:
            request[AUTH_REFUSAL] = refusal
    return await handler(request)


def _bearer(request: web.Request, header: str) -> Principal:
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token:
        raise Problem(401, "Unauthorized", "Use 'Authorization: Bearer <token>'.")
    return request.app[TOKEN_VERIFIER].verify(token.strip())


def _signed_in(request: web.Request) -> Principal:
    principal = request.get(PRINCIPAL)
    if principal is None:
        raise request.get(AUTH_REFUSAL) or Problem(401, "Unauthorized", "Sign in first.")
    return principal


def require_customer(request: web.Request) -> UUID:
    principal = _signed_in(request)
    if principal.kind != "customer":
        raise Problem(403, "Forbidden", "This needs a customer account.")
    return principal.subject


def require_role(request: web.Request, *roles: str) -> Principal:
    principal = _signed_in(request)
    if principal.kind != "staff" or not principal.roles & set(roles):
        raise Problem(403, "Forbidden", f"This needs one of the roles: {', '.join(roles)}.")
    return principal


INTERNAL_TOKEN_HEADER = "X-Internal-Token"


def require_internal(request: web.Request, expected: str) -> None:
    """Internal routes (never routed by the gateway) need the shared internal token."""
    presented = request.headers.get(INTERNAL_TOKEN_HEADER, "")
    if not expected or not hmac.compare_digest(presented.encode(), expected.encode()):
        raise Problem(403, "Forbidden", "Internal route.")
