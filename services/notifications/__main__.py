"""``python -m services.notifications [serve|migrate|replay-dead]``."""

from __future__ import annotations

import sys
from pathlib import Path

from services.notifications.app import create_app
from services.notifications.config import Settings
from services.notifications.messages import QUEUE
from shared.cli import ServiceCli
from shared.service import run_service

MIGRATIONS = Path(__file__).parent / "migrations"


def serve() -> None:
    settings = Settings()  # values come from the environment
    run_service("notifications", create_app(settings), settings)


def main(argv: list[str] | None = None) -> int:
    return ServiceCli("notifications", MIGRATIONS, QUEUE, serve).main(argv)


if __name__ == "__main__":
    sys.exit(main())
