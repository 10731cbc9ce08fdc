"""Where the tests find PostgreSQL and RabbitMQ, and how each run gets its own of both.

Order of preference: ``DATABASE_URL`` / ``AMQP_URL`` from the environment; the servers on
localhost when they answer; testcontainers when a Docker engine runs. Every run creates its
own databases (``t_<random>_<name>``) and its own RabbitMQ vhost, and drops them afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from urllib.parse import quote, urlsplit, urlunsplit

import asyncpg


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass
class Servers:
    pg_admin_dsn: str  # a DSN to the server's "postgres" database
    amqp_url: str  # a URL whose vhost part is replaced per run
    rabbitmqctl: list[str] | None  # how to run rabbitmqctl, when we manage vhosts


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    env_db, env_amqp = os.environ.get("DATABASE_URL"), os.environ.get("AMQP_URL")
    local_pg, local_mq = _answers("127.0.0.1", 5432), _answers("127.0.0.1", 5672)
    if (env_db or local_pg) and (env_amqp or local_mq):
        yield Servers(
            pg_admin_dsn=_with_db(
                env_db or "postgresql://postgres@127.0.0.1:5432/postgres", "postgres"
            ),
            amqp_url=env_amqp or "amqp://guest:guest@127.0.0.1:5672/",
            rabbitmqctl=["rabbitmqctl"] if shutil.which("rabbitmqctl") else None,
        )
        return
    if not _docker_answers():
        raise RuntimeError(
            "No PostgreSQL/RabbitMQ: set DATABASE_URL and AMQP_URL, run them on localhost,"
            " or start a Docker engine for testcontainers."
        )
    from testcontainers.postgres import PostgresContainer
    from testcontainers.rabbitmq import RabbitMqContainer

    with PostgresContainer("postgres:15") as pg, RabbitMqContainer("rabbitmq:3.13") as mq:
        dsn = pg.get_connection_url().replace("+psycopg2", "")
        host, port = mq.get_container_host_ip(), mq.get_exposed_port(5672)
        container = mq.get_wrapped_container().id
        yield Servers(
            pg_admin_dsn=_with_db(dsn, "postgres"),
            amqp_url=f"amqp://guest:guest@{host}:{port}/",
            rabbitmqctl=["docker", "exec", container, "rabbitmqctl"],
        )


def _with_db(dsn: str, name: str) -> str:
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
    return _with_db(admin_dsn, name)


async def drop_database(admin_dsn: str, name: str) -> None:
    conn = await asyncpg.connect(admin_dsn)
    try:
        await conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await conn.close()


def create_vhost(ctl: list[str] | None, vhost: str) -> None:
    if ctl is None:
        raise RuntimeError("cannot create a RabbitMQ vhost without rabbitmqctl")
    subprocess.run([*ctl, "add_vhost", vhost], check=True, capture_output=True)
    subprocess.run(
        [*ctl, "set_permissions", "-p", vhost, "guest", ".*", ".*", ".*"],
        check=True,
        capture_output=True,
    )


def delete_vhost(ctl: list[str] | None, vhost: str) -> None:
    if ctl is not None:
        subprocess.run([*ctl, "delete_vhost", vhost], check=False, capture_output=True)
