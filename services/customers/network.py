"""The client's network as the sign-in throttle counts it (the shared rule, see shared.network)."""

from __future__ import annotations

from aiohttp import web

from shared.network import request_network

from .keys import SETTINGS


def network_of(request: web.Request) -> str:
    """The client's /24 or /48 network, or 'unknown' when the peer has no address."""
    network = request_network(request, request.config_dict[SETTINGS].trusted_proxies)
    return str(network) if network is not None else "unknown"
