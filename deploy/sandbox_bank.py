"""The sandbox bank: a stand-in for an outside card acquirer, for ``make up`` and tests.

It consumes its queue ``bank.<code>.payments`` (declared by the shop) with payment and
refund requests (``shared.contracts.PaymentRequested`` / ``RefundRequested``), serves the
hosted payment page ``GET /pay/{payment_id}`` with Pay / Decline buttons (``POST
/pay/{payment_id}/pay`` and ``.../decline``), and reports every outcome with a signed,
timestamped callback (``shared.signing``) to ``{callback_base_url}/api/payments/{code}/
callbacks``: ``{event_id, payment_id, status: succeeded|declined|refunded, amount,
currency}``, retried with the same event id until it is accepted. Refunds are answered
with a ``refunded`` callback. ``auto_pay`` ('succeed' or 'decline') answers every payment
request by itself; ``GET /payments`` shows what it received (JSON).

In tests::

    async with SandboxBank(amqp_url, callback_base_url=url, secret=s, public_url=u) as bank:
        record = await bank.wait_for(payment_id)
        await bank.complete(payment_id, "succeeded")

Alone: ``python -m deploy.sandbox_bank --http-port 8203`` (options also from the environment:
AMQP_URL, BANK_CODE, CALLBACK_BASE_URL, BANK_SECRET, PUBLIC_URL, AUTO_PAY, HTTP_HOST,
HTTP_PORT). It never sees who pays: no name, email, phone or customer id reach it.
"""

from __future__ import annotations

import argparse
import asyncio
import html
import json
import logging
import os
import uuid
from datetime import UTC, datetime
from typing import Any, Literal, Unpack

from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from aiohttp import web
from pydantic import ValidationError

from deploy.standin import (
    QueueStandIn,
    StandInOptions,
    accepted,
    html_page,
    parse_standin_args,
    received_table,
    run_standin,
    standin_app,
    standin_parser,
)
from shared.contracts import PaymentRequested, RefundRequested
from shared.messaging import bank_queue_name, declare_bank_queue

log = logging.getLogger("deploy.sandbox_bank")
AutoPay = Literal["succeed", "decline"] | None
OUTCOMES = {"pay": "succeeded", "decline": "declined"}


class SandboxBank(QueueStandIn):
    """Takes payment requests, shows the payment page, calls the shop back signed."""

    callback_path = "/api/payments/{code}/callbacks"

    def __init__(
        self,
        amqp_url: str,
        code: str = "sandbox",
        *,
        public_url: str = "http://127.0.0.1:8203",
        auto_pay: AutoPay = None,
        delay_s: float = 0.1,
        **options: Unpack[StandInOptions],
    ) -> None:
        super().__init__(amqp_url, code, **options)
        self.public_url = public_url.rstrip("/")
        self.auto_pay = auto_pay
        self.delay_s = delay_s
        self.payments: dict[str, dict[str, Any]] = {}
        self.refunds: list[dict[str, Any]] = []
        self._arrived = asyncio.Condition()

    def page_url(self, payment_id: str) -> str:
        return f"{self.public_url}/pay/{payment_id}"

    async def declare(self, channel: AbstractChannel) -> str:
        await declare_bank_queue(channel, self.code)
        return bank_queue_name(self.code)

    async def wait_for(
        self, payment_id: str | None = None, within_s: float = 10.0
    ) -> dict[str, Any]:
        """Wait for a payment request (any, when ``payment_id`` is None); return its record."""

        def found() -> dict[str, Any] | None:
            if payment_id is None:
                return next(iter(self.payments.values()), None)
            return self.payments.get(payment_id)

        async with asyncio.timeout(within_s), self._arrived:
            await self._arrived.wait_for(lambda: found() is not None)
        record = found()
        assert record is not None
        return record

    async def wait_refund(self, payment_id: str, within_s: float = 10.0) -> dict[str, Any]:
        """Wait until a refund of the payment is asked for and answered; return its record."""
        async with asyncio.timeout(within_s):
            while True:
                record = next((r for r in self.refunds if r["payment_id"] == payment_id), None)
                if record is not None and record["status"] == "refunded":
                    return record
                await asyncio.sleep(0.05)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        models: dict[str, type[PaymentRequested] | type[RefundRequested]] = {
            PaymentRequested.MESSAGE_TYPE: PaymentRequested,
            RefundRequested.MESSAGE_TYPE: RefundRequested,
        }
        model = models.get(message.type or "")
        try:
            if model is None:
                raise ValueError(f"unknown message type {message.type!r}")
            request = model.model_validate_json(message.body)
        except (ValidationError, ValueError) as exc:
            log.warning("rejected a message that breaks the contract: %s", type(exc).__name__)
            await message.reject(requeue=False)
            return
        if isinstance(request, PaymentRequested):
            await self._store_payment(request, json.loads(message.body))
        else:
            self._store_refund(request)
        await message.ack()

    async def _store_payment(self, request: PaymentRequested, raw: dict[str, Any]) -> None:
        payment_id = str(request.payment_id)
        if payment_id in self.payments:  # a redelivery
            return
        self.payments[payment_id] = {
            "request": raw,
            "received_at": datetime.now(UTC).isoformat(),
            "status": "pending",
        }
        async with self._arrived:
            self._arrived.notify_all()
        log.info("payment request received (%d in total)", len(self.payments))
        if self.auto_pay is not None:
            outcome = "succeeded" if self.auto_pay == "succeed" else "declined"
            self._spawn(self.complete(payment_id, outcome, delay_s=self.delay_s))

    def _store_refund(self, request: RefundRequested) -> None:
        payment_id = str(request.payment_id)
        if any(r["payment_id"] == payment_id for r in self.refunds):
            return
        record = {"payment_id": payment_id, "amount": request.amount, "status": "requested"}
        self.refunds.append(record)
        log.info("refund request received")
        self._spawn(self._refund(record, request))

    async def _refund(self, record: dict[str, Any], request: RefundRequested) -> None:
        await asyncio.sleep(self.delay_s)
        body = self._event(str(request.payment_id), "refunded", request.amount, request.currency)
        answer = await self._deliver(body, settled=_understood)
        record["status"] = "refunded" if accepted(answer) else f"callback failed ({answer})"

    async def complete(self, payment_id: str, outcome: str, *, delay_s: float = 0.0) -> int | None:
        """The customer paid (``succeeded``) or declined: call the shop back; its answer."""
        record = self.payments.get(payment_id)
        if record is None:
            raise KeyError(payment_id)
        if outcome not in OUTCOMES.values():
            raise ValueError(f"outcome must be one of {sorted(OUTCOMES.values())}")
        if record["status"] != "pending":
            return record.get("callback_answer")
        record["status"] = f"confirming {outcome}"
        await asyncio.sleep(delay_s)
        request = record["request"]
        body = self._event(payment_id, outcome, request["amount"], request["currency"])
        answer = await self._deliver(body, settled=_understood)
        record["callback_answer"] = answer
        record["status"] = outcome if accepted(answer) else f"callback failed ({outcome})"
        return answer

    def _event(self, payment_id: str, status: str, amount: int, currency: str) -> bytes:
        event = {"event_id": str(uuid.uuid4()), "payment_id": payment_id, "status": status}
        return json.dumps({**event, "amount": amount, "currency": currency}).encode()

    def create_app(self) -> web.Application:
        app = standin_app(BANK_KEY, self, overview)
        app.router.add_get("/payments", payments_json)
        app.router.add_get("/pay/{payment_id}", pay_page)
        app.router.add_post("/pay/{payment_id}/{action}", pay_action)
        return app


def _understood(answer: int) -> bool:
    """A 2xx, or a 4xx other than 401: final (the shop understood and refused)."""
    return 200 <= answer < 500 and answer != 401


BANK_KEY = web.AppKey("bank", SandboxBank)


async def payments_json(request: web.Request) -> web.Response:
    bank = request.app[BANK_KEY]
    return web.json_response(
        {"bank": bank.code, "payments": bank.payments, "refunds": bank.refunds}
    )


def _amount(request: dict[str, Any]) -> str:
    return f"{request['amount'] / 100:.2f} {request['currency']}"


async def pay_page(request: web.Request) -> web.Response:
    bank = request.app[BANK_KEY]
    payment_id = request.match_info["payment_id"]
    record = bank.payments.get(payment_id)
    if record is None:
        raise web.HTTPNotFound(text="unknown payment")
    pay_request = record["request"]
    base = f"/pay/{html.escape(payment_id)}"
    form = (
        f"<p>{html.escape(pay_request['description'])}: <b>{_amount(pay_request)}</b></p>"
        f"<p>Status: {html.escape(record['status'])}</p>"
        f"<form method='post' action='{base}/pay'><button type='submit'>Pay</button></form>"
        f"<form method='post' action='{base}/decline'>"
        f"<button type='submit'>Decline</button></form>"
    )
    return html_page(f"Sandbox bank {bank.code}", form)


async def pay_action(request: web.Request) -> web.Response:
    bank = request.app[BANK_KEY]
    payment_id = request.match_info["payment_id"]
    outcome = OUTCOMES.get(request.match_info["action"])
    if outcome is None:
        raise web.HTTPNotFound(text="unknown action")
    try:
        answer = await bank.complete(payment_id, outcome)
    except KeyError:
        raise web.HTTPNotFound(text="unknown payment") from None
    record = bank.payments[payment_id]
    back = html.escape(record["request"]["return_url"])
    body = (
        f"<p>Payment {html.escape(record['status'])} (shop answered {answer}).</p>"
        f"<p><a href='{back}'>Back to the shop</a></p>"
    )
    return html_page("Sandbox bank", body)


async def overview(request: web.Request) -> web.Response:
    bank = request.app[BANK_KEY]
    rows = (
        f"<tr><td><a href='/pay/{html.escape(pid)}'>{html.escape(r['request']['order_ref'])}"
        f"</a></td><td>{_amount(r['request'])}</td><td>{html.escape(r['status'])}</td></tr>"
        for pid, r in reversed(bank.payments.items())
    )
    body = (
        "<p>Payment requests received from the shop (JSON: <a href='/payments'>/payments</a>)."
        f"</p>{received_table(('order', 'amount', 'status'), rows)}"
    )
    return html_page(f"Sandbox bank {bank.code}", body)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = standin_parser("The sandbox bank (a local stand-in)", party="BANK", http_port=8203)
    parser.add_argument("--public-url", default=os.environ.get("PUBLIC_URL", ""))
    parser.add_argument(
        "--auto-pay", choices=["succeed", "decline"], default=os.environ.get("AUTO_PAY") or None
    )
    args = parse_standin_args(parser, argv, party="BANK")
    if not args.public_url:
        args.public_url = f"http://localhost:{args.http_port}"
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    run_standin(
        SandboxBank, "sandbox bank", args, public_url=args.public_url, auto_pay=args.auto_pay
    )


if __name__ == "__main__":
    main()
