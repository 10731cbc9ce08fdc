"""`make up`'s database set-up on a PostgreSQL cluster configured like stock Debian's.

A private cluster (initdb in a temporary directory, run by the ``postgres`` OS user on a free
port and its own socket directory) with Debian's ``pg_hba.conf``: peer on the Unix socket,
scram-sha-256 on 127.0.0.1. The machine's own cluster is never touched.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import stat
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import unquote, urlsplit

import asyncpg
import pytest

from deploy.gateway import free_port
from deploy.postgres import PASSWORD_FILE, ROLE, Server, connects, psql_path, server_url

ROOT = Path(__file__).resolve().parents[2]
DEBIAN_HBA = """\
local   all             postgres                                peer
local   all             all                                     peer
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
"""


def server_binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def postgres_user_exists() -> bool:
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return False
    return True


pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or server_binaries() is None or not postgres_user_exists(),
    reason="needs root, the postgres OS user and the Debian PostgreSQL server binaries",
)


def as_postgres(*command: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *command], check=True,
                   capture_output=True, cwd="/")  # fmt: skip


@pytest.fixture(scope="module")
def debian_cluster() -> Iterator[Server]:
    bin_dir = server_binaries()
    assert bin_dir is not None
    base = Path(tempfile.mkdtemp(prefix="shop-pg-"))
    shutil.chown(base, "postgres", "postgres")
    data, sockets = base / "data", base / "sockets"
    as_postgres("mkdir", str(sockets))
    as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres",
                "--auth-local=peer", "--auth-host=scram-sha-256")  # fmt: skip
    (data / "pg_hba.conf").write_text(DEBIAN_HBA)
    port = free_port()
    options = f"-c port={port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={sockets}"
    as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(base / "log"), "-w",
                "-o", options, "start")  # fmt: skip
    try:
        yield Server(port=port, socket_dir=str(sockets), psql=psql_path())
    finally:
        as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(base, ignore_errors=True)


def password_of(url: str) -> str:
    return unquote(urlsplit(url).password or "")


def test_the_cluster_asks_for_a_password(debian_cluster: Server) -> None:
    assert not connects(debian_cluster.url("postgres"))


def test_set_up_makes_a_role_whose_password_is_kept_private(
    debian_cluster: Server, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    said: list[str] = []
    url = server_url(debian_cluster, local, said.append)
    assert urlsplit(url).username == ROLE
    stored = local / PASSWORD_FILE
    assert stat.S_IMODE(stored.stat().st_mode) == 0o600
    assert stored.read_text().strip() == password_of(url)
    assert not any(password_of(url) in line for line in said)
    # Once made, the role is found again without the postgres OS user ("false" would fail).
    assert server_url(debian_cluster, local, said.append, run_as=["false"]) == url


def test_a_service_migrates_and_owns_its_database_with_it(
    debian_cluster: Server, tmp_path: Path
) -> None:
    url = server_url(debian_cluster, tmp_path / "local", lambda _: None)
    env = {**os.environ, "DATABASE_URL": f"{url}/shop_catalog"}
    done = subprocess.run([sys.executable, "-m", "services.catalog", "migrate"], env=env,
                          cwd=ROOT, capture_output=True, text=True, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert password_of(url) not in done.stdout + done.stderr

    async def owner_and_tables() -> tuple[str, int]:
        conn = await asyncpg.connect(f"{url}/shop_catalog")
        try:
            owner = await conn.fetchval(
                "SELECT pg_get_userbyid(datdba) FROM pg_database WHERE datname = 'shop_catalog'"
            )
            tables = await conn.fetchval(
                "SELECT count(*) FROM pg_tables WHERE schemaname = 'public' AND tableowner = $1",
                ROLE,
            )
            return owner, tables
        finally:
            await conn.close()

    owner, tables = asyncio.run(owner_and_tables())
    assert owner == ROLE and tables > 0


def test_a_lost_password_file_is_replaced_and_the_role_follows(
    debian_cluster: Server, tmp_path: Path
) -> None:
    local = tmp_path / "local"
    first = server_url(debian_cluster, local, lambda _: None)
    (local / PASSWORD_FILE).unlink()
    second = server_url(debian_cluster, local, lambda _: None)
    assert password_of(second) != password_of(first)
    assert connects(second) and not connects(first)
