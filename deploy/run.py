"""``make up``: the whole shop on this machine, in the foreground (``python -m deploy.run``).

1. PostgreSQL and RabbitMQ on localhost: used when they answer, started (Debian) otherwise.
2. Local secrets, generated once into ``.local/`` (gitignored, mode 0600).
3. The four databases, created when missing and migrated; the demo catalog seeded.
4. The four services, the SMTP sink, the sandbox courier and the nginx gateway as child
   processes (logs in ``var/log/``), until Ctrl-C or SIGTERM stops them all.

The environment of each service is built in ``service_env`` (one table, easy to fix).
Override with SHOP_PG_URL (a PostgreSQL server URL without database) and SHOP_AMQP_URL.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp

from deploy.gateway import SERVICES, GatewayError, NginxGateway
from shared.auth import generate_signing_key_pem

ROOT = Path(__file__).resolve().parent.parent
LOCAL = ROOT / ".local"
VAR = ROOT / "var"
GATEWAY_PORT = 8080
SERVICE_PORTS = {"catalog": 8101, "orders": 8102, "customers": 8103, "notifications": 8104}
COURIER_PORT, SMTP_PORT, SMTP_HTTP_PORT = 8201, 8025, 8202
COURIER_CODE = "sandbox"
BANK_PORT, BANK_CODE = 8203, "sandbox"
OPERATOR_NAME = "ТОО «Privacy Shop Demo»"
OPERATOR_BIN = "240440017017"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 10.0


class SetupError(RuntimeError):
    """Something ``make up`` cannot fix by itself; the message says what to do."""


def say(text: str) -> None:
    print(f"[make up] {text}", flush=True)


# ---------------------------------------------------------------------------- infrastructure


def answers(url: str, default_port: int) -> bool:
    parts = urlsplit(url)
    address = (parts.hostname or "127.0.0.1", parts.port or default_port)
    with contextlib.suppress(OSError), socket.create_connection(address, timeout=1):
        return True
    return False


def start_postgres() -> None:
    clusters = Path("/etc/postgresql")
    if not shutil.which("pg_ctlcluster") or not clusters.is_dir():
        raise SetupError(
            "PostgreSQL does not answer on 127.0.0.1:5432; start it (or set SHOP_PG_URL)"
        )
    for version in sorted(p.name for p in clusters.iterdir()):
        say(f"starting PostgreSQL {version}")
        command = ["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "start"]
        subprocess.run(command, check=False)


def start_rabbitmq() -> None:
    if not shutil.which("rabbitmq-server"):
        raise SetupError(
            "RabbitMQ does not answer on 127.0.0.1:5672; start it (or set SHOP_AMQP_URL)"
        )
    say("starting RabbitMQ")
    subprocess.run(["rabbitmq-server", "-detached"], check=False)


def wait_for_port(url: str, default_port: int, what: str, timeout_s: float = 90.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not answers(url, default_port):
        if time.monotonic() > deadline:
            raise SetupError(f"{what} did not come up in {timeout_s:.0f}s")
        time.sleep(1)
    say(f"{what} answers")


def ensure_infrastructure(pg_url: str, amqp_url: str) -> None:
    if not answers(pg_url, 5432):
        start_postgres()
    wait_for_port(pg_url, 5432, "PostgreSQL")
    if not answers(amqp_url, 5672):
        start_rabbitmq()
    wait_for_port(amqp_url, 5672, "RabbitMQ")


# ----------------------------------------------------------------------------------- secrets


@dataclass(frozen=True)
class Secrets:
    directory: Path

    @property
    def master_key(self) -> Path:
        return self.directory / "master.key"

    @property
    def blind_index_key(self) -> Path:
        return self.directory / "blind_index.key"

    @property
    def jwt_private(self) -> Path:
        return self.directory / "jwt_private.pem"

    @property
    def jwt_public(self) -> Path:
        return self.directory / "jwt_public.pem"

    @property
    def internal_token(self) -> Path:
        return self.directory / "internal_token"

    @property
    def courier_secret(self) -> Path:
        return self.directory / "courier_secret"

    @property
    def bank_secret(self) -> Path:
        return self.directory / "bank_secret"

    def read(self, path: Path) -> str:
        return path.read_text().strip()


def write_secret(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def random_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode() + "\n"


def random_token() -> str:
    return secrets.token_urlsafe(32) + "\n"


def ensure_secrets(directory: Path) -> Secrets:
    """Generate what is missing; never overwrite (losing the master key loses all PD)."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    found = Secrets(directory)
    for path, make in (
        (found.master_key, random_key),
        (found.blind_index_key, random_key),
        (found.internal_token, random_token),
        (found.courier_secret, random_token),
        (found.bank_secret, random_token),
    ):
        if not path.exists():
            write_secret(path, make())
            say(f"generated {path}")
    if not (found.jwt_private.exists() and found.jwt_public.exists()):
        private, public = generate_signing_key_pem()
        for path, pem in ((found.jwt_private, private), (found.jwt_public, public)):
            path.unlink(missing_ok=True)
            write_secret(path, pem)
        say(f"generated the JWT signing key pair in {directory}")
    return found


# ------------------------------------------------------------------------------- environment


@dataclass(frozen=True)
class Stack:
    pg_url: str  # server URL without the database, e.g. postgresql://postgres@127.0.0.1:5432
    amqp_url: str
    secrets: Secrets

    def database_url(self, service: str) -> str:
        return f"{self.pg_url.rstrip('/')}/shop_{service}"


def local_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def service_env(name: str, stack: Stack) -> dict[str, str]:
    """Environment variables of one service: its Settings field names, upper-case."""
    keys = stack.secrets
    common = {
        "DATABASE_URL": stack.database_url(name),
        "AMQP_URL": stack.amqp_url,
        "HTTP_HOST": "127.0.0.1",
        "HTTP_PORT": str(SERVICE_PORTS[name]),
        "JWT_PUBLIC_KEY_FILE": str(keys.jwt_public),
        "INTERNAL_TOKEN": keys.read(keys.internal_token),
    }
    extras: dict[str, dict[str, str]] = {
        "catalog": {},
        "orders": {
            "CATALOG_URL": local_url(SERVICE_PORTS["catalog"]),
            "COURIER_SECRETS": json.dumps({COURIER_CODE: keys.read(keys.courier_secret)}),
            "CART_COOKIE_SECURE": "false",  # plain HTTP on localhost
            "BANK_CODE": BANK_CODE,
            "BANK_SECRETS": json.dumps({BANK_CODE: keys.read(keys.bank_secret)}),
            "BANK_PUBLIC_URL": f"http://localhost:{BANK_PORT}",
        },
        "customers": {
            "JWT_PRIVATE_KEY_FILE": str(keys.jwt_private),
            "MASTER_KEY_FILE": str(keys.master_key),
            "BLIND_INDEX_KEY_FILE": str(keys.blind_index_key),
            "ORDERS_URL": local_url(SERVICE_PORTS["orders"]),
            "NOTIFICATIONS_URL": local_url(SERVICE_PORTS["notifications"]),
            "OPERATOR_NAME": OPERATOR_NAME,
            "OPERATOR_BIN": OPERATOR_BIN,
            "PD_STORE_REGION": "KZ",
        },
        "notifications": {
            "CUSTOMERS_URL": local_url(SERVICE_PORTS["customers"]),
            "SMTP_HOST": "127.0.0.1",
            "SMTP_PORT": str(SMTP_PORT),
            "PUBLIC_BASE_URL": f"http://localhost:{GATEWAY_PORT}",
        },
    }
    return {**common, **extras[name]}


def courier_env(stack: Stack) -> dict[str, str]:
    return {
        "AMQP_URL": stack.amqp_url,
        "COURIER_CODE": COURIER_CODE,
        "COURIER_SECRET": stack.secrets.read(stack.secrets.courier_secret),
        "CALLBACK_BASE_URL": local_url(GATEWAY_PORT),  # as an outside courier would call
    }


def bank_env(stack: Stack) -> dict[str, str]:
    return {
        "AMQP_URL": stack.amqp_url,
        "BANK_CODE": BANK_CODE,
        "BANK_SECRET": stack.secrets.read(stack.secrets.bank_secret),
        "CALLBACK_BASE_URL": local_url(GATEWAY_PORT),  # as an outside bank would call
        "PUBLIC_URL": f"http://localhost:{BANK_PORT}",
    }


def child_environ(extra: dict[str, str]) -> dict[str, str]:
    return {**os.environ, "PYTHONUNBUFFERED": "1", **extra}


# --------------------------------------------------------------------------------- databases


def run_step(args: list[str], env: dict[str, str], what: str) -> None:
    say(what)
    result = subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=child_environ(env), check=False, text=True,
        capture_output=True,
    )  # fmt: skip
    output = (result.stdout + result.stderr).strip()
    if output:
        print("    " + output.replace("\n", "\n    "), flush=True)
    if result.returncode != 0:
        raise SetupError(f"{what}: failed (exit code {result.returncode})")


def prepare_databases(stack: Stack) -> None:
    for name in SERVICES:  # `migrate` creates the database when it is missing
        env = service_env(name, stack)
        run_step(["-m", f"services.{name}", "migrate"], env, f"migrating shop_{name}")
    run_step(
        ["-m", "services.catalog", "seed"], service_env("catalog", stack), "seeding the catalog"
    )


# --------------------------------------------------------------------------------- processes


@dataclass
class Child:
    name: str
    args: list[str]
    env: dict[str, str]
    ready_url: str
    process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def log_path(self) -> Path:
        return VAR / "log" / f"{self.name}.log"

    async def start(self) -> None:
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self.process = await asyncio.create_subprocess_exec(
                sys.executable, *self.args, cwd=ROOT, env=child_environ(self.env),
                stdin=asyncio.subprocess.DEVNULL, stdout=log, stderr=log,
            )  # fmt: skip

    def exited(self) -> bool:
        return self.process is not None and self.process.returncode is not None

    def log_tail(self, lines: int = 15) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


def children(stack: Stack) -> list[Child]:
    sink = Child(
        "smtp_sink",
        [
            "-m",
            "deploy.smtp_sink",
            "--smtp-port",
            str(SMTP_PORT),
            "--http-port",
            str(SMTP_HTTP_PORT),
        ],
        {},
        f"{local_url(SMTP_HTTP_PORT)}/messages",
    )
    courier = Child(
        "sandbox_courier",
        ["-m", "deploy.sandbox_courier", "--http-port", str(COURIER_PORT)],
        courier_env(stack),
        f"{local_url(COURIER_PORT)}/healthz",
    )
    bank = Child(
        "sandbox_bank",
        ["-m", "deploy.sandbox_bank", "--http-port", str(BANK_PORT)],
        bank_env(stack),
        f"{local_url(BANK_PORT)}/healthz",
    )
    services = [
        Child(
            name,
            ["-m", f"services.{name}", "serve"],
            service_env(name, stack),
            f"{local_url(SERVICE_PORTS[name])}/healthz",
        )
        for name in SERVICES
    ]
    return [sink, courier, bank, *services]


async def is_ready(session: aiohttp.ClientSession, url: str) -> bool:
    with contextlib.suppress(aiohttp.ClientError, TimeoutError):
        async with session.get(url) as response:
            return response.status < 400
    return False


async def wait_ready(procs: list[Child]) -> None:
    deadline = time.monotonic() + START_TIMEOUT_S
    pending = list(procs)
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as session:
        while pending:
            for child in list(pending):
                if child.exited():
                    raise SetupError(f"{child.name} exited at start:\n{child.log_tail()}")
                if await is_ready(session, child.ready_url):
                    say(f"{child.name} is up ({child.ready_url})")
                    pending.remove(child)
            if time.monotonic() > deadline:
                names = ", ".join(c.name for c in pending)
                raise SetupError(f"not up after {START_TIMEOUT_S:.0f}s: {names} (see var/log/)")
            await asyncio.sleep(0.3)


async def stop_all(procs: list[Child]) -> None:
    """SIGTERM every child, wait, then SIGKILL the stragglers."""
    running = [c.process for c in procs if c.process is not None and c.process.returncode is None]
    for process in running:
        with contextlib.suppress(ProcessLookupError):
            process.terminate()
    waits = [asyncio.create_task(p.wait()) for p in running]
    if waits:
        _, late = await asyncio.wait(waits, timeout=STOP_TIMEOUT_S)
        for process in running:
            if process.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    process.kill()
        await asyncio.gather(*late)


async def watch(procs: list[Child], stop: asyncio.Event) -> str | None:
    """Until ``stop`` is set (a signal) or a child dies; return the name of a dead child."""
    while not stop.is_set():
        for child in procs:
            if child.exited():
                return child.name
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 1)
    return None


def print_where_to_look() -> None:
    gateway = f"http://localhost:{GATEWAY_PORT}"
    print(
        f"""
The shop is up. Press Ctrl-C to stop everything.

  gateway (the public API)   {gateway}/api/catalog/products
  account pages              {gateway}/account/
  mail viewer (SMTP sink)    http://localhost:{SMTP_HTTP_PORT}/   (SMTP on 127.0.0.1:{SMTP_PORT})
  sandbox courier            http://localhost:{COURIER_PORT}/
  sandbox bank               http://localhost:{BANK_PORT}/
  services (direct)          {", ".join(f"{n} :{p}" for n, p in SERVICE_PORTS.items())}
  logs                       {VAR / "log"}/  (nginx: {VAR / "nginx" / "logs"}/)
  secrets                    {LOCAL}/  (never commit them)

Add a staff account (roles: catalog_manager, marketer, privacy_officer, support, analyst):
  set -a; . {VAR / "customers.env"}; set +a
  .venv/bin/python -m services.customers staff add --email E --password P --role R
""",
        flush=True,
    )


def write_env_file(path: Path, env: dict[str, str]) -> None:
    """The customers environment as a shell file (for `staff add`); it names key files only."""
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = [f"{k}={shell_quote(v)}" for k, v in env.items() if k != "INTERNAL_TOKEN"]
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write("\n".join(lines) + "\n")


def shell_quote(value: str) -> str:
    return "'" + value.replace("'", "'\"'\"'") + "'"


@contextlib.contextmanager
def signals_set(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        yield
    finally:
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(signum)


def check_ports_free() -> None:
    """A port that already answers means an earlier `make up` (or something else) runs."""
    ports = [*SERVICE_PORTS.values(), COURIER_PORT, BANK_PORT, SMTP_PORT, SMTP_HTTP_PORT]
    ports.append(GATEWAY_PORT)
    taken = [port for port in ports if answers(f"//127.0.0.1:{port}", port)]
    if taken:
        raise SetupError(f"ports already in use: {taken}; is another `make up` running?")


async def run_stack(stack: Stack) -> int:
    check_ports_free()
    procs = children(stack)
    stop = asyncio.Event()
    upstreams = {name: local_url(port) for name, port in SERVICE_PORTS.items()}
    with signals_set(stop):
        try:
            for child in procs:
                await child.start()
            await wait_ready(procs)
            async with NginxGateway(GATEWAY_PORT, upstreams, VAR / "nginx"):
                say(f"gateway is up (http://localhost:{GATEWAY_PORT})")
                print_where_to_look()
                dead = await watch(procs, stop)
                if dead:
                    say(f"{dead} stopped unexpectedly; stopping everything. Its log:")
                    print(next(c for c in procs if c.name == dead).log_tail(), flush=True)
                    return 1
                say("stopping")
                return 0
        finally:
            await stop_all(procs)
            say("stopped")


def main() -> int:
    pg_url = os.environ.get("SHOP_PG_URL", "postgresql://postgres@127.0.0.1:5432")
    amqp_url = os.environ.get("SHOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    try:
        ensure_infrastructure(pg_url, amqp_url)
        stack = Stack(pg_url, amqp_url, ensure_secrets(LOCAL))
        prepare_databases(stack)
        write_env_file(VAR / "customers.env", service_env("customers", stack))
        return asyncio.run(run_stack(stack))
    except (SetupError, GatewayError) as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
