"""Where a request comes from, as far as the shop may know it (policy 5.6).

The client's network is cut to /24 (IPv4) or /48 (IPv6); the full address is never kept.
``X-Forwarded-For`` is believed only when the peer is one of the trusted proxies (the nginx
gateway, on loopback): then the right-most address in it that is not a trusted proxy is the
client. From any other peer the header is ignored and the peer itself is the client.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable, Sequence

from aiohttp import web

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address

# Letters, then letters, spaces and . ' - (no digits, no commas: a street address is refused).
_PLACE = re.compile(r"^[^\W\d_](?:[^\W\d_]|[ .'-]){0,63}$")

LOOPBACK: tuple[Network, ...] = (
    ipaddress.ip_network("127.0.0.0/8"),
    ipaddress.ip_network("::1/128"),
)


def _address(text: str | None) -> Address | None:
    try:
        address = ipaddress.ip_address((text or "").strip())
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: Address, proxies: Iterable[Network]) -> bool:
    return any(address.version == net.version and address in net for net in proxies)


def truncate(address: Address) -> Network:
    """The address cut to its network: /24 for IPv4, /48 for IPv6."""
    prefix = 24 if address.version == 4 else 48
    return ipaddress.ip_network(f"{address}/{prefix}", strict=False)


def client_address(
    peer: str | None, forwarded_for: str | None, proxies: Sequence[Network]
) -> Address | None:
    """The client's address: the peer, or (from a trusted proxy) the right-most untrusted
    address of X-Forwarded-For; None when there is no usable address."""
    client = _address(peer)
    if client is None or not _trusted(client, proxies) or not forwarded_for:
        return client
    for hop in reversed(forwarded_for.split(",")):
        address = _address(hop)
        if address is None:
            return client  # a garbled chain: stop believing it here
        client = address
        if not _trusted(address, proxies):
            break
    return client


def client_network(
    peer: str | None, forwarded_for: str | None, proxies: Sequence[Network] = LOOPBACK
) -> Network | None:
    """The client's /24 or /48 network; None when there is no usable address."""
    address = client_address(peer, forwarded_for, proxies)
    return truncate(address) if address is not None else None


def request_network(request: web.Request, proxies: Sequence[Network]) -> Network | None:
    """The network a request came from (see the module docstring for whom we believe)."""
    return client_network(request.remote, request.headers.get("X-Forwarded-For"), proxies)


def coarse_place(value: str | None) -> str:
    """A city or region name from the gateway's geo headers, trimmed; '' when absent or not a
    plausible place name (never anything finer than a city)."""
    text = (value or "").strip()
    return text if _PLACE.match(text) else ""
