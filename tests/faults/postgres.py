"""A PostgreSQL cluster of the fault suite's own, beside the machine's server (never touched).

``initdb`` as the postgres user into a data directory under /tmp, trust on 127.0.0.1 only,
its own port and socket directory; started, restarted and stopped with ``pg_ctl``, and
deleted afterwards.
"""

from __future__ import annotations

import contextlib
import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.gateway import free_port
from tests import infra


def postgres_bin() -> Path | None:
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(p.split("/")[4])
    )
    return Path(found[-1]).parent if found else None


@dataclass
class PrivatePostgres:
    bin: Path
    base: Path
    port: int

    @property
    def data(self) -> Path:
        return self.base / "data"

    @property
    def admin_dsn(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def pg_ctl(self, *args: str) -> None:
        subprocess.run(
            ["runuser", "-u", "postgres", "--", str(self.bin / "pg_ctl"), "-D", str(self.data),
             "-l", str(self.base / "server.log"), "-w", "-t", "60", *args],
            check=True, capture_output=True, timeout=90,
        )  # fmt: skip

    def start(self) -> None:
        self.pg_ctl("start")

    def stop(self) -> None:
        """A fast shutdown: every session is ended, as a restart for maintenance does."""
        self.pg_ctl("stop", "-m", "fast")

    def servers(self, amqp_url: str, rabbitmqctl: list[str] | None) -> infra.Servers:
        return infra.Servers(
            pg_admin_dsn=self.admin_dsn, amqp_url=amqp_url, rabbitmqctl=rabbitmqctl
        )


@contextlib.contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    bin_dir = postgres_bin()
    if os.geteuid() != 0 or bin_dir is None:
        pytest.skip("a private PostgreSQL needs /usr/lib/postgresql/*/bin and root (runuser)")
    base = Path(tempfile.mkdtemp(prefix="pgfault-"))
    shutil.chown(base, "postgres", "postgres")
    server = PrivatePostgres(bin_dir, base, free_port())
    subprocess.run(
        ["runuser", "-u", "postgres", "--", str(bin_dir / "initdb"), "-D", str(server.data),
         "-U", "postgres", "-A", "trust", "-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"],
        check=True, capture_output=True, timeout=120,
    )  # fmt: skip
    with (server.data / "postgresql.conf").open("a") as conf:
        conf.write(
            f"port = {server.port}\nlisten_addresses = '127.0.0.1'\n"
            f"unix_socket_directories = '{base}'\nmax_connections = 200\n"
            "shared_buffers = 32MB\nfsync = off\nsynchronous_commit = off\n"
        )
    try:
        server.start()
        yield server
    finally:
        with contextlib.suppress(subprocess.SubprocessError):
            server.pg_ctl("stop", "-m", "immediate")
        shutil.rmtree(base, ignore_errors=True)
