"""The fault suite's knobs, and the log lines of the parts it runs in this process."""

from __future__ import annotations

import io
import logging
import os
from collections.abc import Iterator

import pytest

from shared.logging import configure_logging

# FAULT_ORDERS: orders per run (the 1000); FAULT_RATE: orders started per second.
ORDERS = int(os.environ.get("FAULT_ORDERS", "1000"))
RATE = float(os.environ.get("FAULT_RATE", "20"))
SHOPPERS = int(os.environ.get("FAULT_SHOPPERS", "50"))


@pytest.fixture(scope="module")
def fault_logs() -> Iterator[io.StringIO]:
    """The sink's and the courier's log lines (the services log to their own files)."""
    buffer = io.StringIO()
    configure_logging("faults", "INFO", stream=buffer)
    for name in ("aio_pika", "aiormq"):  # their reconnect tracebacks keep channels alive
        logging.getLogger(name).propagate = False
    yield buffer
    logging.getLogger().handlers.clear()
    for name in ("aio_pika", "aiormq"):
        logging.getLogger(name).propagate = True
