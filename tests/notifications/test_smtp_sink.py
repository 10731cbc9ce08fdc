"""The SMTP sink: a real SMTP server that keeps mail, with its HTTP viewer."""

from __future__ import annotations

from email.message import EmailMessage

import aiohttp
import aiosmtplib
import pytest

from deploy.smtp_sink import SmtpSink


def _message(subject: str, to: str = "someone@example.kz") -> EmailMessage:
    message = EmailMessage()
    message["From"] = "Shop <no-reply@shop.kz>"
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = "Mon, 01 Jan 2024 10:00:00 +0000"
    message.set_content("Привет <мир>\n")
    return message


async def test_keeps_mail_and_shows_it() -> None:
    async with SmtpSink("127.0.0.1", smtp_port=0, http_port=0) as sink:
        await aiosmtplib.send(_message("Заказ <1>"), hostname="127.0.0.1", port=sink.smtp_port)
        mail = await sink.wait_for(lambda m: m.subject == "Заказ <1>", timeout=5)
        assert mail.rcpt_tos == ("someone@example.kz",)
        assert mail.mail_from == "no-reply@shop.kz"
        assert mail.body() == "Привет <мир>\n"
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sink.http_url}/messages") as resp:
                listing = await resp.json()
            async with http.get(f"{sink.http_url}/") as resp:
                page = await resp.text()
            async with http.delete(f"{sink.http_url}/messages") as resp:
                assert resp.status == 204
        assert listing["count"] == 1
        item = listing["messages"][0]
        assert (item["subject"], item["to"]) == ("Заказ <1>", "someone@example.kz")
        assert item["date"] and item["body"] == "Привет <мир>\n"
        assert "Заказ &lt;1&gt;" in page and "<мир>" not in page
        assert sink.messages == []


async def test_wait_for_times_out() -> None:
    async with SmtpSink() as sink:
        with pytest.raises(TimeoutError):
            await sink.wait_for(lambda _m: True, timeout=0.1)


async def test_refuses_recipients_when_told() -> None:
    async with SmtpSink() as sink:
        sink.refuse_recipients = "550 5.1.1 No such user"
        with pytest.raises(aiosmtplib.SMTPRecipientsRefused):
            await aiosmtplib.send(_message("x"), hostname="127.0.0.1", port=sink.smtp_port)
        assert sink.messages == []


async def test_stops_and_starts_on_the_same_port() -> None:
    sink = SmtpSink()
    await sink.start()
    port = sink.smtp_port
    await sink.stop()
    with pytest.raises(aiosmtplib.SMTPConnectError):
        await aiosmtplib.send(_message("down"), hostname="127.0.0.1", port=port, timeout=2)
    await sink.start()
    try:
        assert sink.smtp_port == port
        await aiosmtplib.send(_message("up"), hostname="127.0.0.1", port=port)
        await sink.wait_for(lambda m: m.subject == "up", timeout=5)
    finally:
        await sink.stop()


async def test_shows_every_header_in_order_with_duplicates() -> None:
    message = _message("Акция: чай")
    message["List-Unsubscribe"] = "<https://shop.kz/api/notifications/unsubscribe?token=t>"
    message["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
    message["X-Trace"] = "first"
    message["X-Trace"] = "second"
    async with SmtpSink("127.0.0.1", smtp_port=0, http_port=0) as sink:
        await aiosmtplib.send(message, hostname="127.0.0.1", port=sink.smtp_port)
        await sink.wait_for(timeout=5)
        async with aiohttp.ClientSession() as http:
            async with http.get(f"{sink.http_url}/messages") as resp:
                listing = await resp.json()
    headers = [(h["name"], h["value"]) for h in listing["messages"][0]["headers"]]
    names = [name for name, _ in headers]
    assert names[:4] == ["From", "To", "Subject", "Date"]
    assert ("Subject", "Акция: чай") in headers  # decoded, not the encoded words
    assert ("List-Unsubscribe-Post", "List-Unsubscribe=One-Click") in headers
    assert ("List-Unsubscribe", "<https://shop.kz/api/notifications/unsubscribe?token=t>") in (
        headers
    )
    traces = [value for name, value in headers if name == "X-Trace"]
    assert traces == ["first", "second"]
    assert names.index("List-Unsubscribe") < names.index("X-Trace")
    assert "Content-Type" in names and "MIME-Version" in names


async def test_data_arrives_byte_for_byte_and_counted() -> None:
    """Lines starting with a dot, a line of just a dot, a body far over a line's length,
    an empty line last: the sink keeps what the client meant, and counts it."""
    body = "\r\n".join([".starts with a dot", ".", "..two", "end."] + ["A" * 76] * 300 + [""])
    raw = f"From: no-reply@shop.kz\r\nTo: a@example.kz\r\nSubject: dots\r\n\r\n{body}\r\n"
    async with (
        SmtpSink("127.0.0.1", http_port=0) as sink,
        aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.smtp_port) as client,
    ):
        await client.sendmail("no-reply@shop.kz", ["a@example.kz"], raw.encode())
        await client.sendmail("no-reply@shop.kz", ["b@example.kz"], b"Subject: empty\r\n\r\n")
        mails = [
            await sink.wait_for(lambda m, to=to: m.rcpt_tos == (to,))
            for to in ("a@example.kz", "b@example.kz")
        ]
        async with aiohttp.ClientSession() as http, http.get(f"{sink.http_url}/stats") as resp:
            stats = await resp.json()
    assert mails[0].raw == raw.encode()
    assert mails[0].body().startswith(".starts with a dot\n.\n..two\nend.\n")
    assert mails[1].subject == "empty"
    assert stats == {"received": 2, "bytes": len(raw) + len(b"Subject: empty\r\n\r\n")}


async def test_refuses_a_line_too_long_and_keeps_serving() -> None:
    async with (
        SmtpSink() as sink,
        aiosmtplib.SMTP(hostname="127.0.0.1", port=sink.smtp_port) as client,
    ):
        with pytest.raises(aiosmtplib.SMTPDataError) as refused:
            await client.sendmail(
                "x@shop.kz", ["a@example.kz"], b"Subject: long\r\n\r\n" + b"x" * 2000
            )
        assert refused.value.code == 500
        await client.sendmail("x@shop.kz", ["a@example.kz"], b"Subject: after\r\n\r\nok\r\n")
        assert (await sink.wait_for()).subject == "after"
        assert sink.received == 1
