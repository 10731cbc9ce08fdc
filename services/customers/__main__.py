"""Command line of the customers service.

python -m services.customers [serve]
python -m services.customers migrate
python -m services.customers staff add --email E --password P --role R [--role R2]
python -m services.customers keys generate --dir DIR
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import os
import sys
from pathlib import Path

from pydantic import ValidationError

from shared.auth import STAFF_ROLES, generate_signing_key_pem
from shared.db import create_pool
from shared.migrations import ensure_database, migrate
from shared.service import run_service

from . import storage
from .app import build_accounts, create_app
from .config import KeyConfigError, Settings

MIGRATIONS = Path(__file__).parent / "migrations"
KEY_FILES = ("master.key", "blind_index.key", "jwt_private.pem", "jwt_public.pem")


def load_settings() -> Settings:
    """Settings from the environment; a bad value stops the command with a clear message."""
    try:
        return Settings()
    except ValidationError as exc:
        fields = ", ".join(".".join(map(str, e["loc"])) + ": " + e["msg"] for e in exc.errors())
        raise SystemExit(f"customers: invalid settings: {fields}") from None


def serve() -> int:
    settings = load_settings()
    try:
        app = create_app(settings)
    except (KeyConfigError, ValueError) as exc:
        raise SystemExit(f"customers: refusing to start: {exc}") from None
    run_service("customers", app, settings)
    return 0


async def run_migrations(dsn: str) -> list[str]:
    await ensure_database(dsn)
    return await migrate(dsn, MIGRATIONS, "customers")


async def add_staff(settings: Settings, email: str, password: str, roles: list[str]) -> str:
    accounts = build_accounts(settings)
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            staff_id = await accounts.add_staff(conn, email, password, roles)
    finally:
        await pool.close()
    return str(staff_id)


def staff_add(args: argparse.Namespace) -> int:
    unknown = set(args.role) - STAFF_ROLES
    if unknown:
        print(f"unknown role(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    if len(args.password) < 12:
        print("staff passwords need at least 12 characters", file=sys.stderr)
        return 2
    settings = load_settings()
    try:
        staff_id = asyncio.run(add_staff(settings, args.email, args.password, args.role))
    except storage.Conflict:
        print("a staff account with this email already exists", file=sys.stderr)
        return 1
    except ValueError:
        print("the email is not valid", file=sys.stderr)
        return 2
    print(f"staff account {staff_id} created with roles {', '.join(sorted(set(args.role)))}")
    return 0


def keys_generate(directory: Path, force: bool) -> int:
    """Write fresh keys (mode 0600) and print the settings that point at them."""
    directory.mkdir(parents=True, exist_ok=True)
    paths = [directory / name for name in KEY_FILES]
    existing = [p for p in paths if p.exists()]
    if existing and not force:
        names = ", ".join(p.name for p in existing)
        print(f"refusing to overwrite {names}: losing the master key loses all PD", file=sys.stderr)
        return 1
    private, public = generate_signing_key_pem()
    contents = (
        base64.b64encode(os.urandom(32)).decode() + "\n",
        base64.b64encode(os.urandom(32)).decode() + "\n",
        private,
        public,
    )
    for path, text in zip(paths, contents, strict=True):
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w") as handle:
            handle.write(text)
    root = directory.resolve()
    print(f"MASTER_KEY_FILE={root / 'master.key'}")
    print(f"BLIND_INDEX_KEY_FILE={root / 'blind_index.key'}")
    print(f"JWT_PRIVATE_KEY_FILE={root / 'jwt_private.pem'}")
    print(f"JWT_PUBLIC_KEY_FILE={root / 'jwt_public.pem'}")
    return 0


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="python -m services.customers")
    commands = root.add_subparsers(dest="command")
    commands.add_parser("serve", help="run the HTTP service, consumer and outbox relay")
    commands.add_parser("migrate", help="apply the database migrations (DATABASE_URL)")
    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(dest="action")
    add = staff.add_parser("add", help="create a staff account")
    add.add_argument("--email", required=True)
    add.add_argument("--password", required=True)
    add.add_argument("--role", required=True, action="append", help=", ".join(sorted(STAFF_ROLES)))
    keys = commands.add_parser("keys", help="key material").add_subparsers(dest="action")
    generate = keys.add_parser("generate", help="write fresh master, blind-index and JWT keys")
    generate.add_argument("--dir", required=True, type=Path)
    generate.add_argument("--force", action="store_true", help="overwrite existing key files")
    return root


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.command in (None, "serve"):
        return serve()
    if args.command == "migrate":
        applied = asyncio.run(run_migrations(os.environ["DATABASE_URL"]))
        print(f"customers: applied {len(applied)} migration(s)")
        return 0
    if args.command == "staff" and args.action == "add":
        return staff_add(args)
    if args.command == "keys" and args.action == "generate":
        return keys_generate(args.dir, args.force)
    parser().print_help()
    return 2


if __name__ == "__main__":
    sys.exit(main())
