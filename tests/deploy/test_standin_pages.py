"""Each stand-in's page at ``/`` (deploy.standin.html_page and received_table): its title as
heading, an empty table saying nothing came yet, and HTML in what it received escaped."""

from __future__ import annotations

import pytest
from aiohttp.test_utils import TestClient, TestServer

from deploy.sandbox_bank import SandboxBank
from deploy.sandbox_courier import SandboxCourier
from deploy.sandbox_sms import SandboxSms
from deploy.standin import StandIn, received_table

AMQP = "amqp://guest:guest@127.0.0.1:1/"  # never connected: only the pages are served


@pytest.mark.parametrize(
    ("party", "title", "columns"),
    [
        (SandboxSms(secret="s"), "Sandbox SMS provider", 3),
        (SandboxBank(AMQP, "kaspi", secret="s"), "Sandbox bank kaspi", 3),
        (SandboxCourier(AMQP, "kazpost", secret="s"), "Sandbox courier kazpost", 7),
    ],
    ids=["sms", "bank", "courier"],
)
async def test_an_empty_page_says_nothing_came_yet(
    party: StandIn, title: str, columns: int
) -> None:
    async with TestClient(TestServer(party.create_app())) as client:
        response = await client.get("/")
        text = await response.text()
    assert response.status == 200 and response.content_type == "text/html"
    assert f"<title>{title}</title>" in text and f"<h1>{title}</h1>" in text
    assert f"<td colspan='{columns}'>Nothing received yet.</td>" in text


def test_a_table_lists_the_rows_it_is_given() -> None:
    table = received_table(("to", "text"), iter(["<tr><td>a</td><td>b</td></tr>"]))
    assert table.endswith("<tr><th>to</th><th>text</th></tr><tr><td>a</td><td>b</td></tr></table>")
    assert "Nothing received" not in table


async def test_the_sms_page_escapes_what_it_received() -> None:
    provider = SandboxSms(secret="s")
    provider.messages["m"] = {"to": "+77011234567", "text": "<b>hi</b>", "report": None}
    async with TestClient(TestServer(provider.create_app())) as client:
        text = await (await client.get("/")).text()
    assert "&lt;b&gt;hi&lt;/b&gt;" in text and "<b>hi</b>" not in text
