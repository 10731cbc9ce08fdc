"""Where the tests find PostgreSQL and RabbitMQ, and how each run gets its own of both.

Order of preference: ``DATABASE_URL`` / ``AMQP_URL`` from the environment; the servers on
localhost when they answer; testcontainers when a Docker engine runs. Every run creates its
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

from deploy.servers import (
    Servers,
    amqp_with_vhost,
    create_database,
    create_vhost,
    delete_vhost,
    drop_database,
    run_token,
    with_database,
)

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


LOCAL_PG = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextlib.contextmanager
def servers() -> Iterator[Servers]:
    env_db, env_amqp = os.environ.get("DATABASE_URL"), os.environ.get("AMQP_URL")
    local_pg, local_mq = _answers("127.0.0.1", 5432), _answers("127.0.0.1", 5672)
    if (env_db or local_pg) and (env_amqp or local_mq):
        yield Servers(
            pg_admin_dsn=with_database(
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
            pg_admin_dsn=with_database(dsn, "postgres"),
            amqp_url=f"amqp://guest:guest@{host}:{port}/",
            rabbitmqctl=["docker", "exec", container, "rabbitmqctl"],
        )
