"""Signed webhooks between the shop and outside parties (couriers, banks).

The signature is HMAC-SHA256 over ``"<timestamp>.<body>"`` with the party's secret, sent as
``X-Shop-Timestamp`` (Unix seconds) and ``X-Shop-Signature: sha256=<hex>``. A receiver
refuses a missing, forged or stale signature; replays inside the window are refused by the
receiver's own idempotency record (one event id is applied once).
"""

from __future__ import annotations

import hashlib
import hmac
import time

TIMESTAMP_HEADER = "X-Shop-Timestamp"
SIGNATURE_HEADER = "X-Shop-Signature"


class SignatureError(Exception):
    """The message is not signed by who it claims, or is too old."""


def sign(secret: str, timestamp: int, body: bytes) -> str:
    mac = hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def signed_headers(secret: str, body: bytes, *, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {TIMESTAMP_HEADER: str(timestamp), SIGNATURE_HEADER: sign(secret, timestamp, body)}


def verify(
    secret: str,
    headers: dict[str, str] | object,
    body: bytes,
    *,
    max_age_s: int = 300,
    now: float | None = None,
) -> int:
    """Check the signature and freshness; return the signed timestamp."""
    get = getattr(headers, "get", None)
    if get is None:
        raise SignatureError("no headers")
    raw_timestamp, signature = get(TIMESTAMP_HEADER), get(SIGNATURE_HEADER)
    if not raw_timestamp or not signature:
        raise SignatureError("missing signature")
    raw_timestamp = str(raw_timestamp)
    if not (raw_timestamp.isascii() and raw_timestamp.isdigit() and len(raw_timestamp) <= 12):
        raise SignatureError("malformed timestamp")  # int() of thousands of digits raises
    timestamp = int(raw_timestamp)
    signature = str(signature)  # hex: compare_digest refuses other str with a TypeError
    if not signature.isascii() or not hmac.compare_digest(sign(secret, timestamp, body), signature):
        raise SignatureError("bad signature")
    current = now if now is not None else time.time()
    if abs(current - timestamp) > max_age_s:
        raise SignatureError("stale signature")
    return timestamp
