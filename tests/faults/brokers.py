"""RabbitMQ nodes of the fault suite's own, beside the machine's broker (never touched).

Each node runs as the Debian package runs one (``rabbitmq-server -detached`` as the rabbitmq
user) under a name, AMQP port, distribution port, config, mnesia and log directory of its
own under /tmp, with no plugins (so no management listener); several are clustered with
``join_cluster``. Stopped and deleted afterwards.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from deploy.gateway import free_port
from tests import infra

STARTUP_TIMEOUT_S = 90.0


def require_root_and_rabbitmq() -> None:
    if os.geteuid() != 0 or not shutil.which("rabbitmq-server"):
        pytest.skip("private RabbitMQ nodes need rabbitmq-server and root (runuser rabbitmq)")


@dataclass
class Node:
    """One private node: how to start, stop and ask it (``rabbitmqctl -n``)."""

    name: str
    amqp_port: int
    base: Path
    env: dict[str, str]

    @property
    def amqp_url(self) -> str:
        return f"amqp://guest:guest@127.0.0.1:{self.amqp_port}/"

    def ctl(self, *args: str, timeout: float = 60, check: bool = True) -> str:
        done = subprocess.run(
            ["rabbitmqctl", "-n", self.name, *args],
            capture_output=True, text=True, timeout=timeout, check=False,
        )  # fmt: skip
        if check and done.returncode != 0:
            raise RuntimeError(f"rabbitmqctl {' '.join(args)}: {done.stderr or done.stdout}")
        return done.stdout

    def start(self) -> None:
        """Start the node (its data survives a stop) and wait until it serves."""
        subprocess.run(
            ["runuser", "-u", "rabbitmq", "--", "env", *self._env_args(),
             "/usr/lib/rabbitmq/bin/rabbitmq-server", "-detached"],
            check=True, capture_output=True, timeout=60,
        )  # fmt: skip
        self.await_startup()

    def await_startup(self) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while True:  # the node registers with epmd a moment after -detached returns
            try:
                self.ctl("await_startup", "--timeout", "10", timeout=30)
                return
            except (RuntimeError, subprocess.TimeoutExpired):
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)

    def stop(self) -> None:
        """Stop the whole Erlang node."""
        self.ctl("stop", check=False)

    def stop_app(self) -> None:
        self.ctl("stop_app")

    def start_app(self) -> None:
        self.ctl("start_app")
        self.await_startup()

    def _env_args(self) -> list[str]:
        return [f"{key}={value}" for key, value in self.env.items()]

    def queues(self, vhost: str = "/") -> dict[str, list[str]]:
        """Queue name -> its type, messages, and (quorum) members, as rabbitmqctl lists them."""
        listing = self.ctl("list_queues", "-p", vhost, "name", "type", "messages", "members",
                           "--quiet", "--formatter", "json")  # fmt: skip
        import json

        return {
            q["name"]: [q["type"], str(q["messages"]), *sorted(q.get("members") or [])]
            for q in json.loads(listing or "[]")
        }

    def consumed(self, vhost: str = "/") -> set[str]:
        listing = self.ctl("list_consumers", "-p", vhost, "queue_name", "--quiet", check=False)
        return {line.strip() for line in listing.splitlines() if line.strip()}


def new_node(token: str, suffix: str) -> Node:
    name = f"shopfault{token}{suffix}@localhost"
    amqp_port, dist_port = free_port(), free_port()
    base = Path(tempfile.mkdtemp(prefix=f"rmq-{token}{suffix}-"))
    (base / "rabbitmq.conf").write_text(
        f"listeners.tcp.local = 127.0.0.1:{amqp_port}\nloopback_users = none\n"
    )
    (base / "enabled_plugins").write_text("[].\n")
    shutil.chown(base, "rabbitmq", "rabbitmq")
    for path in base.iterdir():
        shutil.chown(path, "rabbitmq", "rabbitmq")
    env = {
        "RABBITMQ_NODENAME": name,
        "RABBITMQ_DIST_PORT": str(dist_port),
        "RABBITMQ_CONFIG_FILE": str(base / "rabbitmq.conf"),
        "RABBITMQ_ENABLED_PLUGINS_FILE": str(base / "enabled_plugins"),
        "RABBITMQ_MNESIA_BASE": str(base / "mnesia"),
        "RABBITMQ_LOG_BASE": str(base / "log"),
        "RABBITMQ_PID_FILE": str(base / "pid"),
    }
    return Node(name, amqp_port, base, env)


@contextlib.contextmanager
def private_nodes(count: int) -> Iterator[list[Node]]:
    """``count`` private nodes, started; with more than one, clustered on the first."""
    require_root_and_rabbitmq()
    token = infra.run_token()[:6]
    nodes = [new_node(token, chr(ord("a") + n)) for n in range(count)]
    try:
        for node in nodes:
            node.start()
        for node in nodes[1:]:
            node.stop_app()
            node.ctl("join_cluster", nodes[0].name)
            node.start_app()
        yield nodes
    finally:
        for node in nodes:
            node.stop()
        for node in nodes:
            shutil.rmtree(node.base, ignore_errors=True)


def cluster_url(nodes: list[Node]) -> str:
    """Every node's URL, comma-separated, as a service's ``AMQP_URL`` (shared.messaging.nodes)."""
    return ",".join(node.amqp_url for node in nodes)
