"""`staff add` takes the password from a terminal prompt or standard input, never argv."""

from __future__ import annotations

import asyncio
import base64
import os
import pty
import subprocess
import sys
from pathlib import Path

import pytest

from tests.customers.conftest import Keys, Shop

ROOT = Path(__file__).resolve().parents[2]
PASSWORD = "a long staff password"


def cli_env(shop: Shop, signing_keys: tuple[str, str], keys: Keys) -> dict[str, str]:
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "DATABASE_URL": shop.dsn,
        "KEYSTORE_DATABASE_URL": shop.keystore_dsn,
        "JWT_PRIVATE_KEY": signing_keys[0],
        "MASTER_KEY": base64.b64encode(keys.master).decode(),
        "BLIND_INDEX_KEY": base64.b64encode(keys.blind).decode(),
        "PD_STORE_REGION": "KZ",
        "ARGON2_TIME_COST": "1",
        "ARGON2_MEMORY_KIB": str(8 * 1024),
    }


async def staff_add(
    env: dict[str, str], *args: str, stdin: bytes | None = None
) -> subprocess.CompletedProcess[bytes]:
    command = [sys.executable, "-m", "services.customers", "staff", "add", *args]
    return await asyncio.to_thread(
        subprocess.run, command, input=stdin, env=env, cwd=ROOT, capture_output=True,
        check=False, timeout=60,
    )  # fmt: skip


async def staff_login(shop: Shop, email: str, password: str) -> int:
    status, _ = await shop.call(
        "POST", "/api/customers/staff/login", json={"email": email, "password": password}
    )
    return status


@pytest.mark.parametrize("flag", [["--password-stdin"], []])
async def test_the_password_is_read_from_standard_input(
    shop: Shop, signing_keys: tuple[str, str], keys: Keys, flag: list[str]
) -> None:
    env = cli_env(shop, signing_keys, keys)
    args = ["--email", "Officer@Shop.kz", "--role", "support", *flag]
    done = await staff_add(env, *args, stdin=f"{PASSWORD}\n".encode())
    assert done.returncode == 0, done.stderr
    assert PASSWORD.encode() not in done.stdout + done.stderr
    assert await staff_login(shop, "officer@shop.kz", PASSWORD) == 200


async def test_the_password_is_not_taken_from_the_command_line(
    shop: Shop, signing_keys: tuple[str, str], keys: Keys
) -> None:
    env = cli_env(shop, signing_keys, keys)
    done = await staff_add(
        env, "--email", "o@shop.kz", "--role", "support", "--password", PASSWORD, stdin=b""
    )
    assert done.returncode == 2 and b"unrecognized arguments" in done.stderr
    assert await staff_login(shop, "o@shop.kz", PASSWORD) == 401


async def test_empty_or_short_standard_input_creates_nothing(
    shop: Shop, signing_keys: tuple[str, str], keys: Keys
) -> None:
    env = cli_env(shop, signing_keys, keys)
    for given in (b"", b"short\n"):
        done = await staff_add(env, "--email", "o@shop.kz", "--role", "support", stdin=given)
        assert done.returncode == 2, done.stderr
    assert await staff_login(shop, "o@shop.kz", "short") == 401


def run_on_terminal(env: dict[str, str], typed: list[str]) -> tuple[int, str]:
    """Run `staff add` with a pseudo-terminal as standard input; type each line at a prompt."""
    main, terminal = pty.openpty()
    command = [sys.executable, "-m", "services.customers", "staff", "add",
               "--email", "o@shop.kz", "--role", "support"]  # fmt: skip
    process = subprocess.Popen(
        command, stdin=terminal, stdout=terminal, stderr=terminal, env=env, cwd=ROOT,
        start_new_session=True,
    )  # fmt: skip
    os.close(terminal)
    seen = b""
    try:
        for line in typed:
            while b"password" not in seen.lower().rsplit(b"\n", 1)[-1]:
                seen += os.read(main, 1024)
            os.write(main, line.encode() + b"\n")
            seen += b"\n"
        while True:
            try:
                chunk = os.read(main, 1024)
            except OSError:  # the child closed the terminal
                break
            if not chunk:
                break
            seen += chunk
    finally:
        os.close(main)
    return process.wait(timeout=60), seen.decode(errors="replace")


async def test_on_a_terminal_it_asks_twice_without_echo(
    shop: Shop, signing_keys: tuple[str, str], keys: Keys
) -> None:
    env = cli_env(shop, signing_keys, keys)
    code, screen = await asyncio.to_thread(run_on_terminal, env, [PASSWORD, "something else"])
    assert code == 2 and "differ" in screen
    assert await staff_login(shop, "o@shop.kz", PASSWORD) == 401
    code, screen = await asyncio.to_thread(run_on_terminal, env, [PASSWORD, PASSWORD])
    assert code == 0, screen
    assert PASSWORD not in screen  # not echoed
    assert await staff_login(shop, "o@shop.kz", PASSWORD) == 200
