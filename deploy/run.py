"""``make up``: the whole shop on this machine, in the foreground (``python -m deploy.run``).

1. PostgreSQL and RabbitMQ on localhost: used when they answer, started (Debian) otherwise
   (``deploy.servers``); on a PostgreSQL that asks for a password, the role ``shop`` with
   a generated password in ``.local/`` (``deploy.postgres``).
2. Local secrets, generated once into ``.local/`` (``deploy.local_secrets``).
3. The four databases and customers' key store, created when missing and migrated (an older
   installation's data keys moved into the key store); the demo catalog seeded.
4. The processes ``deploy.stack`` describes, on the fixed ports (logs in ``var/log/``), then
   the nginx gateway, until Ctrl-C or SIGTERM stops them all; a process that dies is started
   again after a back-off (``deploy.processes.Supervisor``).

``--replicas N`` (``make up REPLICAS=N``, 1 to 9): N processes per service, balanced by nginx.

Override with SHOP_PG_URL (a PostgreSQL server URL without database) and SHOP_AMQP_URL;
SHOP_TRUSTED_PROXIES: the networks the gateway takes X-Forwarded-For from (default loopback).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

from deploy.gateway import SERVICES, GatewayError, NginxGateway, trusted_proxies_setting
from deploy.local_secrets import ensure_secrets
from deploy.postgres import Server, psql_path, server_url
from deploy.processes import ROOT, Supervisor, child_environ
from deploy.servers import SetupError, answers, ensure_servers
from deploy.stack import MAX_REPLICAS, Ports, Shop, server_databases

LOCAL = ROOT / ".local"
VAR = ROOT / "var"
LOGS = VAR / "log"


def say(text: str) -> None:
    print(f"[make up] {text}", flush=True)


def server_urls(say: Callable[[str], None]) -> tuple[str, str]:
    """PostgreSQL (a server URL without database) and RabbitMQ, running and signed in to:
    SHOP_PG_URL / SHOP_AMQP_URL, or localhost (see ``deploy.postgres`` for the role)."""
    pg_url = os.environ.get("SHOP_PG_URL", "")
    amqp_url = os.environ.get("SHOP_AMQP_URL", "amqp://guest:guest@127.0.0.1:5672/")
    ensure_servers(pg_url or "postgresql://127.0.0.1:5432", amqp_url, say)
    return pg_url or server_url(Server(psql=psql_path()), LOCAL, say), amqp_url


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


def prepare_databases(shop: Shop) -> None:
    for name in SERVICES:  # `migrate` creates the database when it is missing
        env = shop.service_env(name)
        run_step(["-m", f"services.{name}", "migrate"], env, f"migrating shop_{name}")
    run_step(["-m", "services.catalog", "seed"], shop.service_env("catalog"), "seeding the catalog")


def print_where_to_look(ports: Ports) -> None:
    gateway = f"http://localhost:{ports.gateway}"
    services = ", ".join(f"{n} :{p}" for n, p in ports.services.items())
    if ports.replicas:
        services += f" (each balanced over {ports.replica_count} replicas)"
    print(
        f"""
The shop is up. Press Ctrl-C to stop everything.

  the shop (storefront)      {gateway}/
  gateway (the public API)   {gateway}/api/catalog/products
  account pages              {gateway}/account/
  mail viewer (SMTP sink)    http://localhost:{ports.smtp_http}/   (SMTP on 127.0.0.1:{ports.smtp})
  sandbox courier            http://localhost:{ports.courier}/
  sandbox bank               http://localhost:{ports.bank}/
  sandbox SMS provider       http://localhost:{ports.sms}/   (texts: /messages; STOP: POST /inbound)
  services (direct)          {services}
  logs                       {LOGS}/  (nginx: {VAR / "nginx" / "logs"}/)
  secrets                    {LOCAL}/  (never commit them)

Add a staff account (roles: catalog_manager, marketer, privacy_officer, support, analyst):
  set -a; . {VAR / "customers.env"}; set +a
  .venv/bin/python -m services.customers staff add --email E --role R   # asks for the password
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


def check_ports_free(ports: Ports) -> None:
    """A port that already answers means an earlier `make up` (or something else) runs."""
    taken = [port for port in ports.every() if answers(f"//127.0.0.1:{port}", port)]
    if taken:
        raise SetupError(f"ports already in use: {taken}; is another `make up` running?")


async def run_shop(shop: Shop) -> int:
    check_ports_free(shop.ports)
    stop = asyncio.Event()
    with signals_set(stop):
        supervisor = Supervisor(shop.processes(), LOGS, say)
        try:
            await supervisor.start()
            trusted = trusted_proxies_setting(os.environ.get("SHOP_TRUSTED_PROXIES"))
            gateway = NginxGateway(
                shop.ports.gateway,
                shop.upstreams(),
                VAR / "nginx",
                balanced=shop.ports.balanced(),
                trusted_proxies=trusted,
            )
            async with gateway:
                say(f"gateway is up (http://localhost:{shop.ports.gateway})")
                print_where_to_look(shop.ports)
                await stop.wait()
                say("stopping")
                return 0
        finally:
            await supervisor.stop()
            say("stopped")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description="The whole shop on this machine")
    parser.add_argument(
        "--replicas",
        type=int,
        default=1,
        choices=range(1, MAX_REPLICAS + 1),
        metavar="N",
        help=f"processes per service, 1 to {MAX_REPLICAS} (default 1)",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    try:
        pg_url, amqp_url = server_urls(say)
        ports = Ports.fixed(args.replicas)
        shop = Shop(ports, server_databases(pg_url), amqp_url, ensure_secrets(LOCAL, say))
        prepare_databases(shop)
        write_env_file(VAR / "customers.env", shop.service_env("customers"))
        return asyncio.run(run_shop(shop))
    except (SetupError, GatewayError) as exc:
        say(f"error: {exc}")
        return 1
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
