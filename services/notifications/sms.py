"""The SMS provider's client: one signed HTTP request per text (``shared.signing``).

The provider's API (``deploy/sandbox_sms.py`` speaks it): ``POST {SMS_PROVIDER_URL}/messages``
with ``{message_id, sender, to, text}``, signed with ``SMS_PROVIDER_SECRET``. It answers 200
or 201 ``{id, status: "accepted"}``; the same ``message_id`` again answers the first send's
``id`` and sends nothing more, so a retry after a lost answer is safe. 422 ``{error}`` is a
permanent refusal (``invalid_number``, ``blocked``, ...): the number will not take texts.
Anything else (timeouts, 5xx, a 401 from a wrong secret, an answer that does not parse) is
transient: the caller retries later, and the contact is not held to blame.

Errors never quote the phone number or the text, nor the provider's answer (which may).
"""

from __future__ import annotations

import json
from uuid import UUID

import aiohttp
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from shared.signing import signed_headers

# The refusal reasons kept as codes; any other reason the provider gives is "rejected".
REJECTIONS = frozenset({"invalid_number", "blocked", "unsubscribed", "rejected"})


class SmsRejected(Exception):
    """The provider refused the number for good: do not retry, suppress the contact."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class SmsUnavailable(Exception):
    """The provider could not take the text now: retry later."""


class _Accepted(BaseModel):
    model_config = ConfigDict(extra="ignore")
    id: str = Field(min_length=1, max_length=200, pattern=r"^[\x21-\x7e]+$")


class _Refused(BaseModel):
    model_config = ConfigDict(extra="ignore")
    error: str = Field(max_length=100)


class SmsClient:
    """Sends texts through the provider at ``url`` as ``sender``."""

    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        secret: str,
        sender: str,
        *,
        timeout_s: float = 10.0,
    ) -> None:
        self._http = http
        self._url = f"{url.rstrip('/')}/messages"
        self._secret = secret
        self._sender = sender
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)

    async def send(self, phone: str, text: str, message_id: UUID | str) -> str:
        """Send ``text`` to ``phone`` (E.164); the provider's id of the message."""
        body = json.dumps(
            {"message_id": str(message_id), "sender": self._sender, "to": phone, "text": text},
            ensure_ascii=False,
        ).encode()
        headers = {"Content-Type": "application/json", **signed_headers(self._secret, body)}
        try:
            async with self._http.post(
                self._url, data=body, headers=headers, timeout=self._timeout
            ) as response:
                status, raw = response.status, await response.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise SmsUnavailable(f"provider unreachable: {type(exc).__name__}") from None
        if status == 422:
            raise SmsRejected(_reason(raw))
        if status not in (200, 201):
            raise SmsUnavailable(f"provider answered {status}")
        try:
            return _Accepted.model_validate_json(raw).id
        except ValidationError:
            raise SmsUnavailable("malformed provider answer") from None


def _reason(raw: bytes) -> str:
    try:
        reason = _Refused.model_validate_json(raw).error
    except ValidationError:
        return "rejected"
    return reason if reason in REJECTIONS else "rejected"
