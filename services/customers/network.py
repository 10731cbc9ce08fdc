"""The client's network as the sign-in throttle counts it, read off the request's headers."""

from __future__ import annotations

from aiohttp import web

from .domain import client_network


def network_of(request: web.Request) -> str:
    """The client's /24 or /48 network (nginx sets X-Real-IP and X-Forwarded-For)."""
    return client_network(
        request.headers.get("X-Real-IP"), request.headers.get("X-Forwarded-For"), request.remote
    )
