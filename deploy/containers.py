"""The shop in containers: what ``deploy/compose.yaml`` and ``deploy/k8s/`` share.

Every service listens on its ``make up`` port inside its container and is reached by its name
(``http://catalog:8101``), so one rendered gateway config serves both::

    python -m deploy.containers nginx-config          # rewrites deploy/k8s/base/gateway/nginx.conf
    python -m deploy.containers secrets compose .local
    python -m deploy.containers secrets k8s deploy/k8s/overlays/local/secrets

``secrets`` generates what is missing (never overwriting, like ``make up``): the key files of
``deploy.local_secrets`` and, under ``env/``, one environment file per part holding the secret
settings it alone needs. For compose these also carry the PostgreSQL and RabbitMQ passwords
inside the URLs; on Kubernetes the operators make those and the manifests read their Secrets.
"""

from __future__ import annotations

import argparse
import json
import secrets
import sys
from pathlib import Path

from deploy.gateway import SERVICES, render_config
from deploy.local_secrets import Secrets, ensure_secrets, write_secret
from deploy.stack import BANK_CODE, COURIER_CODE, Ports

ROOT = Path(__file__).resolve().parent.parent
NGINX_CONFIG = ROOT / "deploy" / "k8s" / "base" / "gateway" / "nginx.conf"
GATEWAY_PORT = 8080
SERVICE_PORTS = dict(Ports.fixed().services)
# nginx's pid and temp files (an emptyDir; the root file system is read-only).
NGINX_WORKDIR = Path("/tmp/nginx")  # noqa: S108 (the container's own emptyDir)
# The storefront's static files in the gateway image (the Dockerfile's `gateway` target).
STOREFRONT_ROOT = Path("/usr/share/shop-storefront")
# Where the gateway's callers are: the ingress controller's pods (Kubernetes pod networks are
# in 10/8 on the usual installations; a production overlay with another one re-renders).
POD_NETWORK = "10.0.0.0/8"


def container_upstreams() -> dict[str, str]:
    return {name: f"http://{name}:{SERVICE_PORTS[name]}" for name in SERVICES}


def render_nginx_config() -> str:
    """The gateway's config in a container: unprivileged, logs to stdout and stderr."""
    return render_config(
        GATEWAY_PORT,
        container_upstreams(),
        NGINX_WORKDIR,
        host="0.0.0.0",
        trusted_proxies=[POD_NETWORK],
        storefront=STOREFRONT_ROOT,
        run_as_root=False,
        logs=Path("/dev"),
    )


def env_lines(values: dict[str, str]) -> str:
    return "".join(f"{name}={value}\n" for name, value in values.items())


def password(directory: Path, name: str) -> str:
    path = directory / name
    if not path.exists():
        write_secret(path, secrets.token_urlsafe(24) + "\n")
    return path.read_text().strip()


def secret_settings(keys: Secrets) -> dict[str, dict[str, str]]:
    """Per part, the secret settings it needs (environment names)."""
    token = keys.read(keys.internal_token)
    courier = keys.read(keys.courier_secret)
    bank = keys.read(keys.bank_secret)
    sms = keys.read(keys.sms_secret)
    return {
        "catalog": {"INTERNAL_TOKEN": token},
        "orders": {
            "INTERNAL_TOKEN": token,
            "COURIER_SECRETS": json.dumps({COURIER_CODE: courier}),
            "BANK_SECRETS": json.dumps({BANK_CODE: bank}),
        },
        "customers": {"INTERNAL_TOKEN": token},
        "notifications": {
            "INTERNAL_TOKEN": token,
            "SMS_PROVIDER_SECRET": sms,
            "UNSUBSCRIBE_SECRET": keys.read(keys.unsubscribe_secret),
        },
        "sandbox_courier": {"COURIER_SECRET": courier},
        "sandbox_bank": {"BANK_SECRET": bank},
        "sandbox_sms": {"SMS_SECRET": sms},
    }


def compose_connections(directory: Path) -> dict[str, dict[str, str]]:
    """Compose's servers: their passwords, and the URLs the services reach them by."""
    pg = password(directory, "postgres_password")
    amqp = password(directory, "rabbitmq_password")
    broker = f"amqp://shop:{amqp}@rabbitmq:5672/"
    parts: dict[str, dict[str, str]] = {
        name: {"DATABASE_URL": f"postgresql://postgres:{pg}@postgres:5432/shop_{name}",
               "AMQP_URL": broker}
        for name in SERVICES
    }  # fmt: skip
    parts["customers"]["KEYSTORE_DATABASE_URL"] = (
        f"postgresql://postgres:{pg}@keystore-db:5432/shop_keystore"
    )
    parts["sandbox_courier"] = {"AMQP_URL": broker}
    parts["sandbox_bank"] = {"AMQP_URL": broker}
    parts["postgres"] = {"POSTGRES_PASSWORD": pg}
    parts["rabbitmq"] = {"RABBITMQ_DEFAULT_USER": "shop", "RABBITMQ_DEFAULT_PASS": amqp}
    return parts


def write_env_files(directory: Path, target: str) -> list[Path]:
    keys = ensure_secrets(directory)
    parts = secret_settings(keys)
    if target == "compose":
        for part, values in compose_connections(directory).items():
            parts[part] = {**parts.get(part, {}), **values}
    env_dir = directory / "env"
    env_dir.mkdir(mode=0o700, exist_ok=True)
    made = []
    for part, values in parts.items():
        path = env_dir / f"{part}.env"
        if not path.exists():
            write_secret(path, env_lines(values))
            made.append(path)
    return made


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="The shop's container files")
    commands = parser.add_subparsers(dest="command", required=True)
    nginx = commands.add_parser("nginx-config", help="render the gateway's container config")
    nginx.add_argument("--out", type=Path, default=NGINX_CONFIG)
    made = commands.add_parser("secrets", help="generate the secret files that are missing")
    made.add_argument("target", choices=["compose", "k8s"])
    made.add_argument("directory", type=Path)
    args = parser.parse_args(argv)
    if args.command == "nginx-config":
        args.out.write_text(render_nginx_config())
        print(f"wrote {args.out}")
        return 0
    for path in write_env_files(args.directory, args.target):
        print(f"generated {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
