"""The notifications OpenAPI documents: every route described, and schemathesis against them."""

from __future__ import annotations

import aiohttp

from services.notifications.app import create_app
from shared.auth import TokenIssuer
from tests.notifications.conftest import INTERNAL_TOKEN, StartNotifications
from tests.openapi_checks import check_described, fuzz_live, headers_for


async def test_every_route_is_described_and_answers_within_it(
    start_notifications: StartNotifications, token_issuer: TokenIssuer
) -> None:
    running = await start_notifications()
    async with aiohttp.ClientSession() as http:
        docs = await check_described(
            create_app(running.settings), http, running.url, "notifications"
        )
    failures = await fuzz_live(docs, running.url, headers_for(token_issuer, INTERNAL_TOKEN))
    assert not failures, "\n".join(failures)
