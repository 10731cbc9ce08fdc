"""`make up`'s environment table matches the services' Settings, and secrets stay put."""

from __future__ import annotations

import importlib
import stat
from pathlib import Path

import pytest

from deploy.run import SERVICE_PORTS, Stack, courier_env, ensure_secrets, service_env
from deploy.sandbox_courier import parse_args


@pytest.fixture
def stack(tmp_path: Path) -> Stack:
    return Stack(
        "postgresql://postgres@127.0.0.1:5432",
        "amqp://guest:guest@127.0.0.1/",
        ensure_secrets(tmp_path / "local"),
    )


@pytest.mark.parametrize("name", sorted(SERVICE_PORTS))
def test_every_variable_is_a_settings_field_and_validates(
    name: str, stack: Stack, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings_class = importlib.import_module(f"services.{name}.config").Settings
    env = service_env(name, stack)
    assert {key.lower() for key in env} <= set(settings_class.model_fields)
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = settings_class()
    assert settings.http_port == SERVICE_PORTS[name]
    assert settings.database_url.endswith(f"/shop_{name}")
    assert settings.public_key_pem().startswith("-----BEGIN PUBLIC KEY-----")


def test_customers_keys_load(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.customers.config import Settings

    for key, value in service_env("customers", stack).items():
        monkeypatch.setenv(key, value)
    settings = Settings()
    assert len(settings.master_key_bytes()) == 32
    assert len(settings.blind_index_key_bytes()) >= 32
    assert settings.signing_public_key_pem() == settings.public_key_pem()


def test_orders_knows_the_courier_secret(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    from services.orders.config import Settings

    for key, value in service_env("orders", stack).items():
        monkeypatch.setenv(key, value)
    secret = Settings().courier_secrets["sandbox"].get_secret_value()
    assert secret == courier_env(stack)["COURIER_SECRET"]


def test_courier_reads_its_environment(stack: Stack, monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in courier_env(stack).items():
        monkeypatch.setenv(key, value)
    args = parse_args(["--http-port", "0"])
    assert args.secret == courier_env(stack)["COURIER_SECRET"]
    assert args.code == "sandbox"
    assert args.callback_base_url == "http://127.0.0.1:8080"


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
    }
    for path in first.directory.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
