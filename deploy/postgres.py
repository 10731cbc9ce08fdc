"""The PostgreSQL role ``make up`` (and ``make test``) use, on a server that may ask for a
password.

A stock Debian cluster trusts no one over TCP (``host all all 127.0.0.1/32 scram-sha-256``)
and lets in its superuser over the Unix socket as the ``postgres`` OS user alone
(``local all postgres peer``). So, in order:

1. the superuser ``postgres`` on 127.0.0.1 without a password, where the server trusts
   localhost (a developer's or CI machine): used as it is;
2. the role ``shop`` with the password in ``.local/postgres_password`` (mode 0600), once
   made;
3. otherwise the role is made (or its password set again): ``psql`` over the Unix socket as
   the ``postgres`` OS user (``runuser`` as root, ``sudo`` otherwise) creates ``shop`` with
   LOGIN and CREATEDB and a generated password, sent as a SCRAM-SHA-256 verifier so the
   password itself reaches neither the server's log nor any command line.

The services then own their databases (``migrate`` creates them as ``shop``).
"""

from __future__ import annotations

import asyncio
import base64
import concurrent.futures
import contextlib
import hashlib
import hmac
import os
import secrets
import shutil
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import asyncpg

from deploy.local_secrets import write_secret
from deploy.servers import SetupError

ROLE = "shop"
PASSWORD_FILE = "postgres_password"
SCRAM_ITERATIONS = 4096


@dataclass(frozen=True)
class Server:
    host: str = "127.0.0.1"
    port: int = 5432
    socket_dir: str = "/var/run/postgresql"
    psql: str = "psql"

    def url(self, user: str, password: str = "") -> str:
        """A server URL without a database (the services add theirs)."""
        auth = f"{quote(user)}:{quote(password, safe='')}" if password else quote(user)
        return f"postgresql://{auth}@{self.host}:{self.port}"


async def _connects(url: str) -> bool:
    try:
        conn = await asyncpg.connect(f"{url}/postgres", timeout=5)
    except (asyncpg.PostgresError, OSError, TimeoutError):
        return False
    await conn.close()
    return True


def connects(url: str) -> bool:
    """Whether ``url`` signs in (to the ``postgres`` database) without asking for more.

    Callable with or without a running event loop (benchmarks call it from one)."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return asyncio.run(_connects(url))
    with concurrent.futures.ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, _connects(url)).result()


def scram_verifier(password: str, salt: bytes | None = None) -> str:
    """What PostgreSQL stores for a SCRAM-SHA-256 password (RFC 5802, RFC 7677)."""
    salt = salt or secrets.token_bytes(16)
    salted = hashlib.pbkdf2_hmac("sha256", password.encode(), salt, SCRAM_ITERATIONS)
    client_key = hmac.digest(salted, b"Client Key", "sha256")
    stored_key = hashlib.sha256(client_key).digest()
    server_key = hmac.digest(salted, b"Server Key", "sha256")
    b64 = base64.b64encode
    return (
        f"SCRAM-SHA-256${SCRAM_ITERATIONS}:{b64(salt).decode()}"
        f"${b64(stored_key).decode()}:{b64(server_key).decode()}"
    )


CREATE_ROLE = (
    "SELECT 'CREATE ROLE shop' WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'shop')"
    "\\gexec\n"
)


def role_sql(password: str) -> str:
    verifier = scram_verifier(password)  # base64 and '$:' only: safe inside quotes
    return CREATE_ROLE + f"ALTER ROLE {ROLE} WITH LOGIN CREATEDB PASSWORD '{verifier}';\n"


def as_postgres_user() -> list[str]:
    """How to run a command as the ``postgres`` OS user from here."""
    if os.geteuid() == 0:
        return ["runuser", "-u", "postgres", "--"]
    if shutil.which("sudo"):
        return ["sudo", "-u", "postgres", "--"]
    raise SetupError(
        "PostgreSQL asks for a password and neither root nor sudo is at hand to create"
        " the shop's role: set SHOP_PG_URL=postgresql://user:password@127.0.0.1:5432"
    )


def make_role(server: Server, password: str, run_as: list[str]) -> None:
    command = [*run_as, server.psql, "-X", "-q", "-v", "ON_ERROR_STOP=1",
               "-h", server.socket_dir, "-p", str(server.port), "-U", "postgres",
               "-d", "postgres"]  # fmt: skip
    done = subprocess.run(
        command, input=role_sql(password), text=True, capture_output=True, check=False,
        cwd="/",
    )  # fmt: skip
    if done.returncode != 0:
        raise SetupError(
            f"could not create the PostgreSQL role {ROLE} over {server.socket_dir}"
            f" as the postgres OS user: {done.stderr.strip()}"
        )


def stored_password(local: Path) -> str:
    path = local / PASSWORD_FILE
    if not path.exists():
        local.mkdir(mode=0o700, parents=True, exist_ok=True)
        write_secret(path, secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def server_url(
    server: Server,
    local: Path,
    say: Callable[[str], None],
    run_as: list[str] | None = None,
) -> str:
    """The PostgreSQL server URL (no database) the shop's services use; see the module."""
    trusted = server.url("postgres")
    if connects(trusted):
        return trusted
    path = local / PASSWORD_FILE
    if path.exists():
        url = server.url(ROLE, path.read_text().strip())
        if connects(url):
            return url
    password = stored_password(local)
    say(f"PostgreSQL asks for a password: setting up the role {ROLE} (password in {path})")
    make_role(server, password, run_as if run_as is not None else as_postgres_user())
    url = server.url(ROLE, password)
    if not connects(url):
        raise SetupError(f"the role {ROLE} was made but cannot sign in over {server.host}")
    return url


def psql_path() -> str:
    """``psql`` on the PATH, or the newest one of the Debian server packages."""
    found = shutil.which("psql")
    if found:
        return found
    with contextlib.suppress(OSError):
        versions = sorted(Path("/usr/lib/postgresql").glob("*/bin/psql"))
        if versions:
            return str(versions[-1])
    return "psql"
