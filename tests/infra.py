"""Where the tests find PostgreSQL and RabbitMQ, and how each run gets its own of both.

Order of preference: ``DATABASE_URL`` / ``AMQP_URL`` from the environment; the servers on
localhost (started the Debian way when installed but stopped; signed in to as ``make up``
does, ``deploy.postgres``); testcontainers when a Docker engine runs. Every run creates its
own databases (``t_<random>_<name>``) and its own RabbitMQ vhost, and drops them afterwards
(with ``deploy.servers``'s helpers, which the benchmarks use too).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
from collections.abc import Iterator
from pathlib import Path

from deploy.postgres import Server, psql_path, server_url
from deploy.servers import (
    Servers,
    SetupError,
    amqp_with_vhost,
    as_root,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    ensure_servers,
    run_token,
    with_database,
)

ROOT = Path(__file__).resolve().parent.parent

__all__ = [
    "Servers",
    "amqp_with_vhost",
    "create_database",
    "create_vhost",
    "delete_vhost",
    "drop_database",
    "run_token",
    "servers",
]


def _answers(host: str, port: int) -> bool:
    with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
        return True
    return False


def _docker_answers() -> bool:
    if not shutil.which("docker"):
        return False
    return subprocess.run(["docker", "info"], capture_output=True, check=False).returncode == 0


def _start_debian_servers() -> None:
    """PostgreSQL and RabbitMQ installed from Debian but stopped: start them (as make up)."""
    if shutil.which("pg_ctlcluster") and shutil.which("rabbitmq-server"):
        with contextlib.suppress(SetupError):
            ensure_servers("postgresql://127.0.0.1:5432", "amqp://127.0.0.1:5672", lambda _: None)


def _local_pg() -> str:
    """The local server as make up signs in to it (a role of its own where it asks for a
    password, ``deploy.postgres``)."""
    url = server_url(Server(psql=psql_path()), ROOT / ".local", lambda _: None)
    return with_database(url, "postgres")


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    env_db, env_amqp = os.environ.get("DATABASE_URL"), os.environ.get("AMQP_URL")
    local_pg, local_mq = _answers("127.0.0.1", 5432), _answers("127.0.0.1", 5672)
    if not (env_db or local_pg) or not (env_amqp or local_mq):
        _start_debian_servers()
        local_pg, local_mq = _answers("127.0.0.1", 5432), _answers("127.0.0.1", 5672)
    if (env_db or local_pg) and (env_amqp or local_mq):
        yield Servers(
            pg_admin_dsn=with_database(env_db, "postgres") if env_db else _local_pg(),
            amqp_url=env_amqp or "amqp://guest:guest@127.0.0.1:5672/",
            rabbitmqctl=[*as_root(), "rabbitmqctl"] if shutil.which("rabbitmqctl") else None,
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
            pg_admin_dsn=with_database(dsn, "postgres"),
            amqp_url=f"amqp://guest:guest@{host}:{port}/",
            rabbitmqctl=["docker", "exec", container, "rabbitmqctl"],
        )
