"""The PostgreSQL and RabbitMQ servers the shop runs on: reaching them, starting them the
Debian way when they do not answer, and throw-away databases and vhosts (tests, benchmarks).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg


class SetupError(RuntimeError):
    """Something the set-up cannot fix by itself; the message says what to do."""


def answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or default_port)
    with contextlib.suppress(OSError), socket.create_connection(address, timeout=1):
        return True
    return False


def as_root() -> list[str]:
    """Prefix of a command that needs root (Debian's service tools): sudo unless root."""
    return [] if os.geteuid() == 0 or not shutil.which("sudo") else ["sudo"]


def start_postgres(say: Callable[[str], None]) -> None:
    clusters = Path("/etc/postgresql")
    if not shutil.which("pg_ctlcluster") or not clusters.is_dir():
        raise SetupError(
            "PostgreSQL does not answer on 127.0.0.1:5432; start it (or set SHOP_PG_URL)"
        )
    for version in sorted(p.name for p in clusters.iterdir()):
        say(f"starting PostgreSQL {version}")
        command = [*as_root(), "pg_ctlcluster", "--skip-systemctl-redirect", version, "main",
                   "start"]  # fmt: skip
        subprocess.run(command, check=False)


def start_rabbitmq(say: Callable[[str], None]) -> None:
    if not shutil.which("rabbitmq-server"):
        raise SetupError(
            "RabbitMQ does not answer on 127.0.0.1:5672; start it (or set SHOP_AMQP_URL)"
        )
    say("starting RabbitMQ")
    subprocess.run([*as_root(), "rabbitmq-server", "-detached"], check=False)


def wait_for_port(
    url: str, default_port: int, what: str, say: Callable[[str], None], timeout_s: float = 90.0
) -> None:
    deadline = time.monotonic() + timeout_s
    while not answers(url, default_port):
        if time.monotonic() > deadline:
            raise SetupError(f"{what} did not come up in {timeout_s:.0f}s")
        time.sleep(1)
    say(f"{what} answers")


def ensure_servers(pg_url: str, amqp_url: str, say: Callable[[str], None]) -> None:
    """PostgreSQL and RabbitMQ answer on their URLs; started (Debian) when they did not."""
    if not answers(pg_url, 5432):
        start_postgres(say)
    wait_for_port(pg_url, 5432, "PostgreSQL", say)
    if not answers(amqp_url, 5672):
        start_rabbitmq(say)
    wait_for_port(amqp_url, 5672, "RabbitMQ", say)


# ------------------------------------------------------------- throw-away databases and vhosts


@dataclass
class Servers:
    pg_admin_dsn: str  # a DSN to the server's "postgres" database
    amqp_url: str  # a URL whose vhost part is replaced per run
    rabbitmqctl: list[str] | None  # how to run rabbitmqctl, when we manage vhosts


def with_database(dsn: str, name: str) -> str:
    parts = urlsplit(dsn)
    return urlunsplit(parts._replace(path=f"/{name}"))


def amqp_with_vhost(url: str, vhost: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{quote(vhost, safe='')}"))


def run_token() -> str:
    return uuid.uuid4().hex[:10]


async def create_database(admin_dsn: str, name: str) -> str:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'CREATE DATABASE "{name}"')
    finally:
        await conn.close()
    return with_database(admin_dsn, name)


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


CTL_S = 120  # rabbitmqctl answers in seconds; a hung one must fail the run, not stall it


def create_vhost(ctl: list[str] | None, vhost: str, user: str = "guest") -> None:
    if ctl is None:
        raise RuntimeError("cannot create a RabbitMQ vhost without rabbitmqctl")
    subprocess.run([*ctl, "add_vhost", vhost], check=True, capture_output=True, timeout=CTL_S)
    subprocess.run(
        [*ctl, "set_permissions", "-p", vhost, user, ".*", ".*", ".*"],
        check=True,
        capture_output=True,
        timeout=CTL_S,
    )


def delete_vhost(ctl: list[str] | None, vhost: str) -> None:
    if ctl is not None:
        subprocess.run(
            [*ctl, "delete_vhost", vhost], check=False, capture_output=True, timeout=CTL_S
        )
