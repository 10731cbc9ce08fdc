"""Every JSON success of the notifications documents names a response model (issue 12), and
a campaign's answers (created, listed, paused, resumed, completed) and a recipient's export
are checked live against the served schema: schemathesis' random ids only reach 404s."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from services.notifications.routes import OPERATIONS
from shared.openapi import build_document
from tests.notifications.campaign_shop import INTERNAL_TOKEN, CampaignShop
from tests.openapi_checks import answer_checker, unmodelled_json_successes

DOCS = [build_document("N", OPERATIONS), build_document("N", OPERATIONS, internal=True)]
check_answer = answer_checker(*DOCS)
ONE = "/api/notifications/campaigns/{campaign_id}"


def test_every_json_success_has_a_model() -> None:
    for document in DOCS:
        assert not unmodelled_json_successes(document)


async def test_a_campaign_s_answers_match_their_models(shop: CampaignShop) -> None:
    person = await shop.sign_up(0, email=True, locale="kk")
    await shop.start()
    created = await shop.create()
    check_answer("POST", "/api/notifications/campaigns", 201, created)
    done = await shop.wait_status(created["id"], "completed")
    check_answer("GET", ONE, 200, done)
    later = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    held = await shop.create(scheduled_at=later)
    check_answer("POST", f"{ONE}/pause", 200, await shop.move(held["id"], "pause"))
    check_answer("POST", f"{ONE}/resume", 200, await shop.move(held["id"], "resume"))
    status, page = await shop.call(
        "GET", "/api/notifications/campaigns?limit=1", token=shop.marketer()
    )
    assert status == 200 and page["next_before"], page
    check_answer("GET", "/api/notifications/campaigns", 200, page)
    status, export = await shop.call(
        "GET",
        f"/internal/customers/{person.customer_id}/export",
        headers={"X-Internal-Token": INTERNAL_TOKEN},
    )
    assert status == 200 and export["notifications"], export
    check_answer("GET", "/internal/customers/{customer_id}/export", 200, export)
