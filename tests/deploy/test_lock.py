"""The lock files (requirements/, ``make lock``): every dependency pinned with hashes, the
services' image without the stand-ins' tools, the same versions in every lock."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LOCKS = ROOT / "requirements"
PIN = re.compile(r"^([A-Za-z0-9._-]+)==([^ ;\\]+)", re.MULTILINE)


def normalized(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def pins(name: str) -> dict[str, str]:
    text = (LOCKS / name).read_text()
    return {normalized(package): version for package, version in PIN.findall(text)}


def requirement_names(requirements: list[str]) -> set[str]:
    return {normalized(re.split(r"[\[<>=;! ]", line, maxsplit=1)[0]) for line in requirements}


def project() -> dict[str, object]:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]  # type: ignore[no-any-return]


@pytest.mark.parametrize("lock", ["shop.lock", "standins.lock", "dev.lock"])
def test_every_pin_has_hashes(lock: str) -> None:
    entries = re.split(r"\n(?=[A-Za-z0-9])", (LOCKS / lock).read_text())
    pinned = [entry for entry in entries if PIN.match(entry)]
    assert pinned
    assert all("--hash=sha256:" in entry for entry in pinned)


def test_the_locks_agree_and_the_services_lack_the_stand_ins_tools() -> None:
    shop, standins, dev = pins("shop.lock"), pins("standins.lock"), pins("dev.lock")
    assert shop.items() <= standins.items() <= dev.items()
    extras = project()["optional-dependencies"]
    assert isinstance(extras, dict)
    assert requirement_names(project()["dependencies"]) <= set(shop)  # type: ignore[arg-type]
    assert requirement_names(extras["standins"]) <= set(standins) - set(shop)
    assert requirement_names(extras["dev"]) <= set(dev)
    assert "aiosmtpd" not in shop


def test_the_image_installs_what_the_lock_says() -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "--require-hashes --wheel-dir /wheels -r requirements/shop.lock" in dockerfile
    assert "--require-hashes --wheel-dir /standins -r requirements/standins.lock" in dockerfile
    assert "!requirements/" in (ROOT / ".dockerignore").read_text().splitlines()
    makefile = (ROOT / "Makefile").read_text()
    assert "pip install -q --require-hashes -r $(DEV_LOCK)" in makefile
    assert "$(PY): pyproject.toml $(DEV_LOCK)" in makefile
