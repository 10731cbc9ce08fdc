"""The stack's description (``deploy.stack``) matches the services' Settings, reads the same
whichever way it is run (environment for ``make up``, keyword arguments in the end-to-end
tests), and ``make up``'s secrets stay put."""

from __future__ import annotations

import ast
import importlib
import stat
from pathlib import Path

import pytest

from deploy.gateway import SERVICES
from deploy.local_secrets import ensure_secrets
from deploy.sandbox_bank import parse_args as bank_args
from deploy.sandbox_courier import parse_args as courier_args
from deploy.sandbox_sms import parse_args as sms_args
from deploy.stack import Ports, Shop, server_databases


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return Shop(
        Ports.fixed(),
        server_databases("postgresql://postgres@127.0.0.1:5432"),
        "amqp://guest:guest@127.0.0.1/",
        ensure_secrets(tmp_path / "local"),
    )


def settings_class(name: str) -> type:
    return importlib.import_module(f"services.{name}.config").Settings  # type: ignore[no-any-return]


def from_environment(name: str, env: dict[str, str], monkeypatch: pytest.MonkeyPatch) -> object:
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    return settings_class(name)()


@pytest.mark.parametrize("name", SERVICES)
def test_every_variable_is_a_settings_field_and_validates(
    name: str, shop: Shop, monkeypatch: pytest.MonkeyPatch
) -> None:
    env = shop.service_env(name)
    assert {key.lower() for key in env} <= set(settings_class(name).model_fields)
    settings = from_environment(name, env, monkeypatch)
    assert settings.http_port == Ports.fixed().services[name]  # type: ignore[attr-defined]
    assert settings.database_url.endswith(f"/shop_{name}")  # type: ignore[attr-defined]
    assert settings.public_key_pem().startswith("-----BEGIN PUBLIC KEY-----")  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", SERVICES)
def test_environment_and_keyword_arguments_give_the_same_settings(
    name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`make up` passes the description as environment, the e2e tests as keyword arguments:
    both must configure a service identically, tuning included."""
    tuning = {name: {"retry_delays_ms": (100, 300), "access_log": True}}
    shop = Shop(
        Ports.free(),
        server_databases("postgresql://postgres@127.0.0.1:5432", prefix="t_x"),
        "amqp://guest:guest@127.0.0.1/",
        ensure_secrets(tmp_path / "local"),
        tuning=tuning,
    )
    by_keyword = settings_class(name)(**shop.settings(name))
    assert from_environment(name, shop.service_env(name), monkeypatch) == by_keyword
    assert by_keyword.retry_delays_ms == (100, 300)


def test_customers_keys_load(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_environment("customers", shop.service_env("customers"), monkeypatch)
    assert len(settings.master_key_bytes()) == 32  # type: ignore[attr-defined]
    assert len(settings.blind_index_key_bytes()) >= 32  # type: ignore[attr-defined]
    assert settings.signing_public_key_pem() == settings.public_key_pem()  # type: ignore[attr-defined]


def test_orders_knows_the_stand_ins_secrets(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    settings = from_environment("orders", shop.service_env("orders"), monkeypatch)
    courier = settings.courier_secrets["sandbox"].get_secret_value()  # type: ignore[attr-defined]
    bank = settings.bank_secrets["sandbox"].get_secret_value()  # type: ignore[attr-defined]
    assert courier == shop.courier_env()["COURIER_SECRET"]
    assert bank == shop.bank_env()["BANK_SECRET"]


def test_courier_reads_its_environment(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in shop.courier_env().items():
        monkeypatch.setenv(key, value)
    args = courier_args(["--http-port", "0"])
    assert args.secret == shop.courier_options()["secret"]
    assert args.code == "sandbox"
    assert args.callback_base_url == "http://127.0.0.1:8080"


def test_bank_reads_its_environment(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in shop.bank_env().items():
        monkeypatch.setenv(key, value)
    args = bank_args(["--http-port", "0"])
    assert args.secret == shop.bank_options()["secret"]
    assert args.public_url == "http://localhost:8203"
    assert args.callback_base_url == "http://127.0.0.1:8080"


def test_sms_provider_reads_its_environment(shop: Shop, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in shop.sms_env().items():
        monkeypatch.setenv(key, value)
    args = sms_args(["--http-port", "0"])
    assert args.secret == shop.sms_options()["secret"]
    assert args.callback_base_url == "http://127.0.0.1:8080"
    settings = from_environment("notifications", shop.service_env("notifications"), monkeypatch)
    provider_secret = settings.sms_provider_secret.get_secret_value()  # type: ignore[attr-defined]
    assert provider_secret == args.secret
    assert settings.sms_provider_url == f"http://127.0.0.1:{shop.ports.sms}"  # type: ignore[attr-defined]
    assert settings.unsubscribe_secret.get_secret_value()  # type: ignore[attr-defined]


def test_processes_start_in_order_on_their_ports(shop: Shop) -> None:
    names = [process.name for process in shop.processes()]
    assert names == ["smtp_sink", "sandbox_courier", "sandbox_bank", "sandbox_sms", *SERVICES]
    for process in shop.processes():
        if process.name in SERVICES:
            assert process.env["HTTP_PORT"] in process.ready_url
    assert shop.upstreams()["orders"] == ["http://127.0.0.1:8102"]


def test_free_ports_are_distinct() -> None:
    ports = Ports.free().every()
    assert len(set(ports)) == len(ports)


def test_secrets_are_generated_once_and_private(tmp_path: Path) -> None:
    first = ensure_secrets(tmp_path / "local")
    before = {p.name: p.read_text() for p in first.directory.iterdir()}
    again = ensure_secrets(tmp_path / "local")
    assert {p.name: p.read_text() for p in again.directory.iterdir()} == before
    assert set(before) == {
        "master.key",
        "blind_index.key",
        "jwt_private.pem",
        "jwt_public.pem",
        "internal_token",
        "courier_secret",
        "bank_secret",
        "sms_secret",
        "unsubscribe_secret",
    }
    for path in first.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_benchmarks_do_not_import_the_tests() -> None:
    """bench/ runs the stack from deploy/ alone: a clone without tests/ still benchmarks."""
    root = Path(__file__).resolve().parents[2]
    imported: set[tuple[str, str]] = set()
    for path in (root / "bench").glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add((path.name, node.module.split(".")[0]))
            elif isinstance(node, ast.Import):
                imported.update((path.name, alias.name.split(".")[0]) for alias in node.names)
    assert not {name for name, module in imported if module == "tests"}


def test_replicas_run_on_their_own_ports_behind_the_balancer(tmp_path: Path) -> None:
    shop = Shop(
        Ports.fixed(replicas=3),
        server_databases("postgresql://postgres@127.0.0.1:5432"),
        "amqp://guest:guest@127.0.0.1/",
        ensure_secrets(tmp_path / "local"),
    )
    processes = shop.service_processes()
    assert [p.name for p in processes if p.service == "orders"] == ["orders#1", "orders#2",
                                                                   "orders#3"]  # fmt: skip
    ports = {p.name: p.env["HTTP_PORT"] for p in processes}
    assert (ports["orders#1"], ports["orders#2"], ports["orders#3"]) == ("8112", "8122", "8132")
    assert shop.upstreams()["catalog"] == [f"http://127.0.0.1:{p}" for p in (8111, 8121, 8131)]
    # The others reach a service through nginx's listener on its usual port.
    assert shop.ports.balanced() == dict(Ports.fixed().services)
    assert shop.settings("orders", replica=1)["catalog_url"] == "http://127.0.0.1:8101"
    assert Ports.fixed().balanced() == {}
    every = Ports.free(replicas=2).every()
    assert len(set(every)) == len(every) == 6 + 4 + 8
    with pytest.raises(ValueError, match="replicas"):
        Ports.fixed(replicas=10)
