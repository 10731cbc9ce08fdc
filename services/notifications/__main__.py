"""``python -m services.notifications [serve|migrate|replay-dead]``."""

from __future__ import annotations

import sys
from pathlib import Path

from services.notifications.app import create_app
from services.notifications.config import Settings
from services.notifications.messages import QUEUE
from shared.cli import ServiceCli, serving

MIGRATIONS = Path(__file__).parent / "migrations"


def main(argv: list[str] | None = None) -> int:
    serve = serving("notifications", Settings, create_app)
    return ServiceCli("notifications", MIGRATIONS, QUEUE, serve).main(argv)


if __name__ == "__main__":
    sys.exit(main())
