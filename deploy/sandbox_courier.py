"""The sandbox courier: a stand-in for an outside courier company, for ``make up`` and tests.

It consumes its queue ``courier.<code>.dispatch`` (declared by the shop), where two kinds of
message arrive, told apart by the AMQP ``type`` property and each checked against its
contract: ``courier.dispatch`` (``shared.contracts.DispatchMessage``) and
``courier.dispatch_cancelled`` (``shared.contracts.DispatchCancelled``); anything else is
rejected. It keeps what it received in memory, shows it at ``GET /`` (HTML) and
``GET /dispatches`` (JSON), and after ``confirm_delay_s`` confirms the delivery with a
signed callback to ``{callback_base_url}/api/fulfilment/{code}/callbacks`` (retried with
back-off until it is accepted). ``POST /dispatches/{dispatch_id}/{status}`` confirms by hand
(``delivered`` or ``failed``) when ``auto_confirm`` is off.

A cancel marks the dispatch ``cancelled`` and stops its pending confirmation; a cancel that
arrives before its dispatch (the two come from different services, in any order) is
remembered, so the late dispatch is stored as ``cancelled`` and never confirmed. A
cancelled dispatch cannot be confirmed by hand (409). A cancel of a dispatch already
confirmed changes nothing but is noted (``cancel_after``).

In tests::

    async with SandboxCourier(amqp_url, callback_base_url=url, secret=s) as courier:
        ...
        await courier.wait_for(1, timeout=5)

Alone: ``python -m deploy.sandbox_courier --http-port 8201`` (options also from the
environment: AMQP_URL, COURIER_CODE, CALLBACK_BASE_URL, COURIER_SECRET, CONFIRM_DELAY_S,
AUTO_CONFIRM, HTTP_HOST, HTTP_PORT). What it shows is personal data of the (demo) recipient,
as a real courier would see it: it listens on localhost and never logs it.
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
from typing import Any, Unpack

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
from shared.contracts import DispatchCancelled, DispatchMessage
from shared.messaging import courier_queue_name, declare_courier_queue

log = logging.getLogger("deploy.sandbox_courier")
STATUSES = ("delivered", "failed")
CANCELLED = "cancelled"


class DispatchIsCancelled(Exception):
    """The shop cancelled this dispatch: it must not be confirmed."""


class SandboxCourier(QueueStandIn):
    """Consumes dispatch messages and confirms them with signed callbacks."""

    callback_path = "/api/fulfilment/{code}/callbacks"

    def __init__(
        self,
        amqp_url: str,
        code: str = "sandbox",
        *,
        confirm_delay_s: float = 0.5,
        auto_confirm: bool = True,
        **options: Unpack[StandInOptions],
    ) -> None:
        super().__init__(amqp_url, code, **options)
        self.confirm_delay_s = confirm_delay_s
        self.auto_confirm = auto_confirm
        self.received: list[dict[str, Any]] = []
        # Cancels of dispatches not received yet: dispatch id -> when the cancel came.
        self.early_cancels: dict[str, str] = {}
        self._arrived = asyncio.Event()
        self._changed = asyncio.Event()
        self._confirmations: dict[str, asyncio.Task[None]] = {}

    async def declare(self, channel: AbstractChannel) -> str:
        await declare_courier_queue(channel, self.code)
        return courier_queue_name(self.code)

    async def wait_for(self, count: int, timeout: float = 10.0) -> list[dict[str, Any]]:  # noqa: ASYNC109
        """Wait until at least ``count`` dispatches arrived; return them."""
        async with asyncio.timeout(timeout):
            while len(self.received) < count:
                self._arrived.clear()
                await self._arrived.wait()
        return self.received

    async def wait_for_status(
        self,
        dispatch_id: str,
        status: str,
        timeout: float = 10.0,  # noqa: ASYNC109
    ) -> dict[str, Any]:
        """Wait until the dispatch is known with ``status``; return its record."""
        async with asyncio.timeout(timeout):
            while True:
                self._changed.clear()
                record = self.find(dispatch_id)
                if record is not None and record["status"] == status:
                    return record
                await self._changed.wait()

    def find(self, dispatch_id: str) -> dict[str, Any] | None:
        return next((d for d in self.received if d["dispatch_id"] == dispatch_id), None)

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        model = MODELS.get(message.type or "")
        if model is None:
            log.warning("rejected a message of unknown type %r", message.type)
            await message.reject(requeue=False)
            return
        try:
            body = model.model_validate_json(message.body)
        except ValidationError as exc:
            fields = sorted({".".join(map(str, e["loc"])) for e in exc.errors()})
            log.warning(
                "rejected a %s message that breaks the contract: %s", model.__name__, fields
            )
            await message.reject(requeue=False)
            return
        if body.courier != self.code:
            log.warning("rejected a %s message for courier %s", model.__name__, body.courier)
            await message.reject(requeue=False)
            return
        if isinstance(body, DispatchCancelled):
            self._cancel(body)
        else:
            self._store(body, message.message_id)
        await message.ack()

    def _store(self, dispatch: DispatchMessage, message_id: str | None) -> None:
        record = dispatch.model_dump(mode="json")
        if self.find(record["dispatch_id"]) is not None:  # a redelivery: already have it
            return
        record["message_id"] = message_id
        record["received_at"] = datetime.now(UTC).isoformat()
        record["status"] = "received"
        cancelled_at = self.early_cancels.pop(record["dispatch_id"], None)
        if cancelled_at is not None:  # the cancel overtook the dispatch: never deliver it
            record["status"] = CANCELLED
            record["cancelled_at"] = cancelled_at
        self.received.append(record)
        self._arrived.set()
        self._changed.set()
        log.info("dispatch received (%d in total)", len(self.received))
        if self.auto_confirm and record["status"] != CANCELLED:
            self.confirm(record["dispatch_id"], "delivered", delay_s=self.confirm_delay_s)

    def _cancel(self, cancel: DispatchCancelled) -> None:
        dispatch_id = str(cancel.dispatch_id)
        now = datetime.now(UTC).isoformat()
        record = self.find(dispatch_id)
        if record is None:
            self.early_cancels.setdefault(dispatch_id, now)
            log.info("cancel of a dispatch not received yet: remembered")
        elif record["status"] in STATUSES:
            # Already confirmed to the shop: too late to drop; note it for whoever looks.
            record.setdefault("cancel_after", now)
            log.warning("cancel of a dispatch already confirmed %s", record["status"])
        elif record["status"] != CANCELLED:
            task = self._confirmations.pop(dispatch_id, None)
            if task is not None:
                task.cancel()
            record["status"] = CANCELLED
            record["cancelled_at"] = now
            log.info("dispatch cancelled by the shop")
        self._changed.set()

    def confirm(self, dispatch_id: str, status: str, *, delay_s: float = 0.0) -> None:
        """Schedule the callback that reports ``status`` for a received dispatch."""
        record = self.find(dispatch_id)
        if record is None:
            raise KeyError(dispatch_id)
        if status not in STATUSES:
            raise ValueError(f"status must be one of {STATUSES}")
        if record["status"] == CANCELLED:
            raise DispatchIsCancelled(dispatch_id)
        record["status"] = f"confirming {status}"
        task = self._spawn(self._callback(record, status, delay_s))
        self._confirmations[dispatch_id] = task
        task.add_done_callback(lambda done: self._forget_confirmation(dispatch_id, done))

    def _forget_confirmation(self, dispatch_id: str, task: asyncio.Task[None]) -> None:
        if self._confirmations.get(dispatch_id) is task:
            del self._confirmations[dispatch_id]

    async def _callback(self, record: dict[str, Any], status: str, delay_s: float) -> None:
        await asyncio.sleep(delay_s)
        event = {"event_id": str(uuid.uuid4()), "dispatch_id": record["dispatch_id"]}
        body = json.dumps({**event, "status": status}).encode()

        def seen(attempt: int, answer: int | None) -> None:
            record["callback_attempts"] = attempt
            record["callback_answer"] = answer

        if accepted(await self._deliver(body, on_answer=seen)):
            record["status"] = status
        else:
            record["status"] = f"callback failed ({status})"
        self._changed.set()

    def create_app(self) -> web.Application:
        app = standin_app(COURIER_KEY, self, page)
        app.router.add_get("/dispatches", dispatches)
        app.router.add_post("/dispatches/{dispatch_id}/{status}", confirm)
        return app


COURIER_KEY = web.AppKey("courier", SandboxCourier)
# The messages of the courier's queue, by their AMQP type.
MODELS: dict[str, type[DispatchMessage] | type[DispatchCancelled]] = {
    DispatchMessage.MESSAGE_TYPE: DispatchMessage,
    DispatchCancelled.MESSAGE_TYPE: DispatchCancelled,
}


async def dispatches(request: web.Request) -> web.Response:
    courier = request.app[COURIER_KEY]
    early = [{"dispatch_id": k, "cancelled_at": v} for k, v in courier.early_cancels.items()]
    return web.json_response(
        {"courier": courier.code, "items": courier.received, "early_cancels": early}
    )


async def confirm(request: web.Request) -> web.Response:
    courier = request.app[COURIER_KEY]
    try:
        courier.confirm(request.match_info["dispatch_id"], request.match_info["status"])
    except KeyError:
        raise web.HTTPNotFound(text="unknown dispatch") from None
    except ValueError as exc:
        raise web.HTTPBadRequest(text=str(exc)) from None
    except DispatchIsCancelled:
        raise web.HTTPConflict(text="the shop cancelled this dispatch") from None
    return web.json_response({"status": "scheduled"}, status=202)


def _row(d: dict[str, Any]) -> str:
    address, recipient = d["address"], d["recipient"]
    cod = d["cash_on_delivery"]
    cells = (
        d["received_at"][:19],
        d["order_ref"],
        f"{recipient['name']}, {recipient['phone']}",
        ", ".join(str(v) for v in address.values() if v),
        f"{d['parcel']['count']} pc, {d['parcel']['weight_g']} g",
        f"{cod['amount'] / 100:.2f} {cod['currency']}" if cod else "prepaid",
        f"cancelled by the shop, do not deliver ({d['cancelled_at'][:19]})"
        if d["status"] == CANCELLED
        else d["status"],
    )
    return "<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in cells) + "</tr>"


async def page(request: web.Request) -> web.Response:
    courier = request.app[COURIER_KEY]
    headings = ("received", "order", "recipient", "address", "parcel", "cash", "status")
    body = (
        "<p>Dispatch messages received from the shop (JSON: <a href='/dispatches'>"
        "/dispatches</a>).</p>"
        f"{received_table(headings, (_row(d) for d in reversed(courier.received)))}"
    )
    return html_page(f"Sandbox courier {courier.code}", body, refresh_s=5)


def _env_flag(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    return default if value is None else value.strip().lower() in ("1", "true", "yes", "on")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = standin_parser(
        "The sandbox courier (a local stand-in)", party="COURIER", http_port=8201
    )
    parser.add_argument(
        "--confirm-delay-s", type=float, default=float(os.environ.get("CONFIRM_DELAY_S", "2"))
    )
    parser.add_argument(
        "--auto-confirm",
        action=argparse.BooleanOptionalAction,
        default=_env_flag("AUTO_CONFIRM", True),
    )
    return parse_standin_args(parser, argv, party="COURIER")


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    run_standin(
        SandboxCourier,
        "sandbox courier",
        args,
        confirm_delay_s=args.confirm_delay_s,
        auto_confirm=args.auto_confirm,
    )


if __name__ == "__main__":
    main()
