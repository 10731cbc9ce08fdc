"""Raw HTTP/1.1 over a socket, for requests no HTTP client would send."""

from __future__ import annotations

import asyncio
import gzip
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

MARK = "aigul.sentinel"  # in every hostile request: it must never come back


@dataclass(frozen=True)
class RawAnswer:
    status: int
    headers: dict[str, str]
    body: bytes

    @property
    def content_type(self) -> str:
        return self.headers.get("content-type", "").split(";")[0].strip()

    def problem(self) -> dict[str, Any]:
        document: dict[str, Any] = json.loads(self.body)
        return document


async def send_raw(base_url: str, data: bytes) -> RawAnswer:
    """Send ``data`` as is and read one answer (its head, then Content-Length bytes)."""
    url = urlsplit(base_url)
    reader, writer = await asyncio.open_connection(url.hostname, url.port)
    try:
        writer.write(data)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 15)
        status_line, *lines = head.decode("latin-1").rstrip("\r\n").split("\r\n")
        headers = {}
        for line in lines:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", "0"))
        body = await asyncio.wait_for(reader.readexactly(length), 15)
    finally:
        writer.close()
    return RawAnswer(int(status_line.split()[1]), headers, body)


def _post(path: str, body: bytes, *headers: bytes) -> bytes:
    head = [
        f"POST {path} HTTP/1.1".encode(),
        b"Host: shop.test",
        b"Connection: close",
        b"Content-Type: application/json",
        f"Content-Length: {len(body)}".encode(),
        *headers,
    ]
    return b"\r\n".join(head) + b"\r\n\r\n" + body


def hostile_requests(path: str) -> dict[str, bytes]:
    """Requests to ``path`` that aiohttp's parser refuses, whose body it cannot decode, or
    whose header bytes are no UTF-8 (or no ASCII where a token or a signature goes)."""
    body = json.dumps({"note": MARK}).encode()
    get = f"GET {path} HTTP/1.1\r\nHost: shop.test\r\nConnection: close\r\n"
    return {
        "control character in a header": (get + f"X-Note: {MARK}\x01\r\n\r\n").encode(),
        "header without a colon": (get + f"{MARK}\r\n\r\n").encode(),
        "invalid method": f"G(ET {path} HTTP/1.1\r\nHost: shop.test\r\n\r\n".encode(),
        "unknown method": f"FROBNICATE {path} HTTP/1.1\r\nHost: shop.test\r\n\r\n".encode(),
        "TLS to the HTTP port": b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03" + MARK.encode(),
        "malformed request line": f"GET {path}/{MARK} HTTP/1.1 x\r\n\r\n".encode(),
        "unknown HTTP version": f"GET {path}/{MARK} HTTP/7.1\r\n\r\n".encode(),
        "NUL in the target": f"GET {path}\x00{MARK} HTTP/1.1\r\n\r\n".encode(),
        "header too long": (get + f"X-Note: {MARK * 1000}\r\n\r\n").encode(),
        "Content-Encoding br": _post(path, body, b"Content-Encoding: br"),
        "Content-Encoding zstd": _post(path, body, b"Content-Encoding: zstd"),
        "broken gzip body": _post(path, MARK.encode(), b"Content-Encoding: gzip"),
        "gzip of UTF-16": _post(
            path, gzip.compress(body.decode().encode("utf-16")), b"Content-Encoding: gzip"
        ),
        "bad Content-Length": _post(path, body).replace(b"Content-Length:", b"Content-Length: x"),
        "two Content-Lengths": _post(path, body, b"Content-Length: 1"),
        # Bytes that are not UTF-8 (aiohttp makes lone surrogates of them) and non-ASCII text
        # where a token, a cookie or a signature goes; one header each, as the first one
        # refused would hide the others.
        "undecodable cookie": _post(path, body, b"Cookie: refresh_token=\xff\xfe\xed\xa0\x80"),
        "undecodable token": _post(path, body, b"Authorization: Bearer \xff\xfe"),
        "undecodable idempotency key": _post(path, body, b"Idempotency-Key: \xff\xfe"),
        "undecodable signature": _post(
            path, body, b"X-Shop-Timestamp: 1", b"X-Shop-Signature: \xff\xfe"
        ),
        "non-ASCII cookie": _post(path, body, "Cookie: refresh_token=Айгуль".encode()),
        "non-ASCII signature": _post(
            path, body, b"X-Shop-Timestamp: 1", "X-Shop-Signature: é".encode()
        ),
        "signature timestamp of 400 digits": _post(
            path, body, b"X-Shop-Timestamp: " + b"9" * 400, b"X-Shop-Signature: 00"
        ),
        "broken chunks": (
            f"POST {path} HTTP/1.1\r\nHost: shop.test\r\nTransfer-Encoding: chunked\r\n"
            f"Content-Type: application/json\r\n\r\nzz\r\n{MARK}\r\n0\r\n\r\n"
        ).encode(),
    }
