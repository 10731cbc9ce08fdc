"""deploy/compose.yaml, checked without a Docker engine: every service's environment (its
own and its generated env file) names its Settings fields and validates, ports agree with
the gateway's config, every part has a healthcheck, the secrets it mounts are generated, and
``docker compose config`` accepts it where the client has the compose plugin."""

from __future__ import annotations

import importlib
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from dotenv import dotenv_values

from deploy.containers import NGINX_CONFIG, SERVICE_PORTS, write_env_files
from deploy.gateway import SERVICES

DEPLOY = Path(__file__).resolve().parents[2] / "deploy"
COMPOSE = DEPLOY / "compose.yaml"
STANDINS = ("smtp-sink", "sandbox-courier", "sandbox-bank", "sandbox-sms")


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    return yaml.safe_load(COMPOSE.read_text())  # type: ignore[no-any-return]


@pytest.fixture
def local(tmp_path: Path) -> Path:
    """A copy of deploy/ beside a generated .local, as in a clone after `secrets compose`."""
    shutil.copytree(DEPLOY, tmp_path / "deploy", ignore=shutil.ignore_patterns("secrets"))
    write_env_files(tmp_path / ".local", "compose")
    return tmp_path


def env_of(part: dict[str, Any], root: Path) -> dict[str, str]:
    env: dict[str, str] = {}
    files = part.get("env_file", [])
    for name in [files] if isinstance(files, str) else files:
        values = dotenv_values(root / "deploy" / name)
        env.update({k: v for k, v in values.items() if v is not None})
    env.update({k: str(v) for k, v in part.get("environment", {}).items()})
    return env


def settings_class(name: str) -> type:
    return importlib.import_module(f"services.{name}.config").Settings  # type: ignore[no-any-return]


@pytest.mark.parametrize("name", SERVICES)
def test_each_service_s_environment_is_its_settings(
    name: str, compose: dict[str, Any], local: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    part = compose["services"][name]
    assert part["command"] == [f"services.{name}", "serve"]
    env = env_of(part, local)
    fields = {f.upper() for f in settings_class(name).model_fields}
    assert set(env) <= fields, set(env) - fields
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    settings = settings_class(name)()
    assert settings.http_port == SERVICE_PORTS[name]  # type: ignore[attr-defined]
    assert f":{SERVICE_PORTS[name]}/readyz" in " ".join(part["healthcheck"]["test"])
    assert part["depends_on"][f"{name}-migrate"]["condition"] == "service_completed_successfully"
    migrate = compose["services"][f"{name}-migrate"]
    assert set(env_of(migrate, local)) <= fields
    assert "migrate" in " ".join(migrate["command"])


def test_the_gateway_reaches_the_services_by_their_compose_names(compose: dict[str, Any]) -> None:
    config = NGINX_CONFIG.read_text()
    for name in SERVICES:
        assert f"server {name}:{SERVICE_PORTS[name]};" in config
        assert name in compose["services"]
    gateway = compose["services"]["gateway"]
    assert any(v.startswith("./k8s/base/gateway/nginx.conf:") for v in gateway["volumes"])
    assert gateway["ports"] == ["127.0.0.1:8080:8080"]


def test_every_part_is_checked_and_nothing_listens_beyond_localhost(
    compose: dict[str, Any],
) -> None:
    for name, part in compose["services"].items():
        if name.endswith("-migrate"):
            continue
        assert "healthcheck" in part, name
        for port in part.get("ports", []):
            assert port.startswith("127.0.0.1:"), (name, port)
    published = {
        p.split(":")[1] for part in compose["services"].values() for p in part.get("ports", [])
    }
    assert published == {"8080", "8201", "8202", "8203", "8204"}
    for name in (*SERVICES, *STANDINS):
        assert compose["services"][name]["read_only"] is True
    for name in STANDINS:
        assert "0.0.0.0" in compose["services"][name]["command"]


def test_the_key_store_has_a_server_of_its_own(compose: dict[str, Any], local: Path) -> None:
    env = env_of(compose["services"]["customers"], local)
    assert "@keystore-db:5432/" in env["KEYSTORE_DATABASE_URL"]
    assert "@postgres:5432/shop_customers" in env["DATABASE_URL"]
    for name in ("catalog", "orders", "notifications"):
        assert "keystore" not in " ".join(env_of(compose["services"][name], local).values())


def test_the_secrets_it_mounts_are_generated(compose: dict[str, Any], local: Path) -> None:
    for name, secret in compose["secrets"].items():
        assert (local / "deploy" / secret["file"]).resolve().exists(), name


def test_docker_compose_accepts_it(local: Path) -> None:
    docker = shutil.which("docker")
    if docker is None:
        pytest.skip("no docker client")
    probe = subprocess.run([docker, "compose", "version"], capture_output=True, check=False)
    if probe.returncode != 0:
        pytest.skip("the docker client has no compose plugin")
    result = subprocess.run(
        [docker, "compose", "-f", str(local / "deploy" / "compose.yaml"), "config", "-q"],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
