"""Command line of the customers service.

python -m services.customers [serve]
python -m services.customers migrate     # the key store, the keys moved into it, then customers
python -m services.customers replay-dead [--limit N]
python -m services.customers staff add --email E --role R [--role R2] [--password-stdin]
python -m services.customers keys generate --dir DIR
python -m services.customers keys rotate-master --new-master-key-file F [--batch-size N]
python -m services.customers keys backup --dir DIR   # the key store, expired backups pruned
python -m services.customers audit verify
python -m services.customers privacy requests [--status S] [--kind K] [--limit N]
python -m services.customers privacy resolve ID --officer EMAIL --outcome completed|refused
    --answer TEXT [--reason CODE]

``staff add`` asks for the password on a terminal (twice), or reads one line from standard
input with ``--password-stdin`` or when standard input is not a terminal; never from the
command line, where ``ps`` and the shell history would keep it.
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import contextlib
import getpass
import os
import sys
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path
from typing import Any, get_args
from uuid import UUID

import asyncpg
from pydantic import ValidationError

from shared.auth import STAFF_ROLES, generate_signing_key_pem
from shared.cli import ServiceCli, migrate_service
from shared.db import create_pool
from shared.migrations import ensure_database
from shared.service import run_service
from shared.telemetry import traced_process

from . import request_desk, storage, subject_requests
from .accounts import Accounts
from .app import build_accounts, create_app
from .audit import verify_audit
from .backup import BackupError, backup_keystore
from .config import KeyConfigError, Settings, StoreSettings, key_from_file
from .key_move import KeyMoveError, move_keys
from .key_rotation import RotationError, rotate_master
from .keys import ACCOUNTS
from .keystore import migrate_keystore
from .messages import QUEUE
from .request_models import ResolveIn, normalise_email
from .rights import REQUEST_KINDS, Outcome, QueueStatus, RefusalReason

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
    with traced_process("customers", settings):
        try:
            app = create_app(settings)
        except (KeyConfigError, ValueError) as exc:
            raise SystemExit(f"customers: refusing to start: {exc}") from None
        run_service("customers", app, settings)
    return 0


async def add_staff(settings: Settings, email: str, password: str, roles: list[str]) -> str:
    accounts = build_accounts(settings)
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            staff_id = await accounts.add_staff(conn, email, password, roles)
    finally:
        await pool.close()
    return str(staff_id)


class PasswordError(ValueError):
    """No usable password was given; the message says why."""


def read_password(from_stdin: bool) -> str:
    """The new staff password: one line of standard input, or asked twice on the terminal."""
    if from_stdin or not sys.stdin.isatty():
        line = sys.stdin.readline()
        if not line:
            raise PasswordError("no password on standard input")
        return line.removesuffix("\n").removesuffix("\r")
    password = getpass.getpass("password for the staff account: ")
    if getpass.getpass("the same password again: ") != password:
        raise PasswordError("the passwords differ")
    return password


def staff_add(args: argparse.Namespace) -> int:
    unknown = set(args.role) - STAFF_ROLES
    if unknown:
        print(f"unknown role(s): {', '.join(sorted(unknown))}", file=sys.stderr)
        return 2
    try:
        password = read_password(args.password_stdin)
    except PasswordError as exc:
        print(exc, file=sys.stderr)
        return 2
    if len(password) < 12:
        print("staff passwords need at least 12 characters", file=sys.stderr)
        return 2
    settings = load_settings()
    try:
        staff_id = asyncio.run(add_staff(settings, args.email, password, args.role))
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


async def migrate_both() -> list[str]:
    """The key store first, then the keys of an older installation moved into it, then the
    customers database (whose 0019 drops the emptied key tables)."""
    settings = StoreSettings()
    applied = await migrate_keystore(settings.keystore_dsn())
    print(f"customers key store: applied {len(applied)} migration(s)")
    await ensure_database(settings.database_url)
    customers = await asyncpg.connect(settings.database_url)
    store = await asyncpg.connect(settings.keystore_dsn())
    try:
        moved = await move_keys(customers, store)
    except KeyMoveError as exc:
        raise SystemExit(f"customers: moving the data keys stopped: {exc}") from None
    finally:
        await store.close()
        await customers.close()
    if moved:
        print(f"customers: moved {moved} data key(s) into the key store")
    return await migrate_service(settings.database_url, MIGRATIONS, "customers")


async def _rotate(settings: Settings, new_master: bytes, batch_size: int) -> int:
    pool = await create_pool(settings.keystore_dsn(), min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            result = await rotate_master(
                conn, settings.master_key_bytes(), new_master, batch_size=batch_size
            )
    finally:
        await pool.close()
    print(f"re-wrapped {result.rewrapped} data key(s) under master key v{result.version}")
    if result.remaining:
        print(f"{result.remaining} key(s) still to do: run the command again", file=sys.stderr)
        return 1
    print("point MASTER_KEY[_FILE] at the new key and drop PREVIOUS_MASTER_KEY[_FILE]")
    return 0


def keys_rotate_master(new_key_file: Path, batch_size: int) -> int:
    """Re-wrap every data key under the key in ``new_key_file`` (the data stays as it is)."""
    settings = load_settings()
    try:
        new_master = key_from_file(new_key_file, "the new master key")
        if len(new_master) != 32:
            raise KeyConfigError("the new master key must be 32 bytes (base64)")
        return asyncio.run(_rotate(settings, new_master, batch_size))
    except (KeyConfigError, OSError, RotationError) as exc:
        print(f"customers: key rotation refused: {exc}", file=sys.stderr)
        return 1


def keys_backup(directory: Path) -> int:
    """A pg_dump of the key store into ``directory``; its backups past the retention go."""
    settings = StoreSettings()
    retention = timedelta(days=settings.keystore_backup_retention_days)
    try:
        done = backup_keystore(settings.keystore_dsn(), directory, retention)
    except (BackupError, OSError) as exc:
        print(f"customers: key store backup failed: {exc}", file=sys.stderr)
        return 1
    print(f"key store backed up to {done.path}")
    print(f"pruned {len(done.pruned)} backup(s) older than {retention.days} day(s)")
    return 0


async def _audit(dsn: str) -> int:
    pool = await create_pool(dsn, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            check = await verify_audit(conn)
    finally:
        await pool.close()
    if check.first_bad_id is not None:
        print(
            f"audit chain BROKEN at row id {check.first_bad_id}"
            f" ({check.rows} rows intact before it)"
        )
        return 1
    print(f"audit chain intact: {check.rows} rows")
    return 0


def audit_verify(dsn: str) -> int:
    """Exit status 0 when every link of the audit hash chain holds, 1 on the first bad row."""
    return asyncio.run(_audit(dsn))


async def _requests(settings: Settings, status: str, kind: str | None, limit: int) -> int:
    async with _connection(settings) as conn:
        page = await request_desk.queue(
            conn,
            status=status,  # type: ignore[arg-type]  # argparse choices
            kind=kind,  # type: ignore[arg-type]
            limit=limit,
        )
    for item in page.items:
        late = " OVERDUE" if item["overdue"] else ""
        print(f"{item['id']}  {item['kind']:<16} {item['status']:<11} due {item['due']}{late}")
    print(f"{len(page.items)} request(s)" + (" (more: raise --limit)" if page.next_cursor else ""))
    return 0


def privacy_requests(args: argparse.Namespace) -> int:
    """The desk's queue on the terminal: ids, kinds, statuses, due dates (no one's words)."""
    return asyncio.run(_requests(load_settings(), args.status, args.kind, args.limit))


async def _resolve(settings: Settings, args: argparse.Namespace) -> int:
    # The app's keys (accounts, settings) for the use case; nothing of it is started. An
    # erasure a withdrawal starts is closed here and advanced by the service's chore.
    app = create_app(settings)
    accounts = app[ACCOUNTS]
    try:
        body = ResolveIn(outcome=args.outcome, answer=args.answer, reason=args.reason)
    except ValidationError as exc:
        print("; ".join(error["msg"] for error in exc.errors()), file=sys.stderr)
        return 2
    await accounts.gate.keys.open(max_size=1)  # the use case may seal or read PD
    try:
        return await _resolve_on(settings, app, accounts, args, body)
    finally:
        await accounts.gate.keys.close()


async def _resolve_on(
    settings: Settings, app: Any, accounts: Accounts, args: argparse.Namespace, body: ResolveIn
) -> int:
    async with _connection(settings) as conn, conn.transaction():
        officer = await _privacy_officer(conn, accounts, args.officer)
        if officer is None:
            print("no active privacy_officer with this email", file=sys.stderr)
            return 1
        try:
            done = await request_desk.resolve(
                conn, app, args.request_id, outcome=body.outcome, answer=body.answer,
                reason=body.reason, officer=officer,
            )  # fmt: skip
        except subject_requests.RequestNotFound:
            print("no such request", file=sys.stderr)
            return 1
        except request_desk.NotForTheDesk:
            print("this kind closes through its own route, not at the desk", file=sys.stderr)
            return 1
        except request_desk.AlreadyAnswered:
            print("the request is answered already", file=sys.stderr)
            return 1
    answered = done.request
    print(f"request {answered.id} ({answered.kind}) {answered.status}")
    if done.erasure_id is not None:
        print(f"account closed for erasure: request {done.erasure_id} (the service shreds it)")
    return 0


async def _privacy_officer(conn: Any, accounts: Accounts, email: str) -> UUID | None:
    try:
        index = accounts.vault.blind_index("email", normalise_email(email))
    except ValueError:
        return None
    row = await storage.find_staff(conn, index)
    return row["id"] if row is not None and "privacy_officer" in row["roles"] else None


def privacy_resolve(args: argparse.Namespace) -> int:
    """Answer a request as the privacy officer named by ``--officer`` (their staff email)."""
    return asyncio.run(_resolve(load_settings(), args))


@contextlib.asynccontextmanager
async def _connection(settings: Settings) -> AsyncIterator[Any]:
    """One connection set up as the service's own (``shared.db``: the JSON codecs)."""
    pool = await create_pool(settings.database_url, min_size=1, max_size=1)
    try:
        async with pool.acquire() as conn:
            yield conn
    finally:
        await pool.close()


def add_privacy_commands(commands: Any) -> None:
    privacy = commands.add_parser("privacy", help="the privacy officer's desk")
    actions = privacy.add_subparsers(dest="action")
    listing = actions.add_parser("requests", help="the queue of requests, overdue first")
    listing.add_argument("--status", default="open", choices=get_args(QueueStatus))
    listing.add_argument("--kind", default=None, choices=REQUEST_KINDS)
    listing.add_argument("--limit", type=int, default=100)
    resolve = actions.add_parser("resolve", help="answer a request (completed or refused)")
    resolve.add_argument("request_id", type=UUID)
    resolve.add_argument("--officer", required=True, help="your staff email (privacy_officer)")
    resolve.add_argument("--outcome", required=True, choices=get_args(Outcome))
    resolve.add_argument("--answer", required=True, help="the reasoned answer the customer reads")
    resolve.add_argument("--reason", default=None, choices=get_args(RefusalReason))


def add_commands(commands: Any) -> None:
    """The customers' own commands, on top of the shared serve, migrate and replay-dead."""
    staff = commands.add_parser("staff", help="staff accounts").add_subparsers(dest="action")
    add = staff.add_parser("add", help="create a staff account")
    add.add_argument("--email", required=True)
    add.add_argument(
        "--password-stdin",
        action="store_true",
        help="read the password from standard input (also when it is not a terminal)",
    )
    add.add_argument("--role", required=True, action="append", help=", ".join(sorted(STAFF_ROLES)))
    keys = commands.add_parser("keys", help="key material").add_subparsers(dest="action")
    generate = keys.add_parser("generate", help="write fresh master, blind-index and JWT keys")
    generate.add_argument("--dir", required=True, type=Path)
    generate.add_argument("--force", action="store_true", help="overwrite existing key files")
    rotate = keys.add_parser(
        "rotate-master", help="re-wrap every data key under a new master key (resumable)"
    )
    rotate.add_argument("--new-master-key-file", required=True, type=Path)
    rotate.add_argument("--batch-size", type=int, default=500)
    backup = keys.add_parser(
        "backup", help="pg_dump the key store into DIR; prune its backups past the retention"
    )
    backup.add_argument("--dir", required=True, type=Path)
    audit = commands.add_parser("audit", help="the audit log").add_subparsers(dest="action")
    audit.add_parser("verify", help="verify the audit hash chain (DATABASE_URL)")
    add_privacy_commands(commands)


def run_command(args: argparse.Namespace) -> int:
    if args.command == "staff" and args.action == "add":
        return staff_add(args)
    if args.command == "keys" and args.action == "generate":
        return keys_generate(args.dir, args.force)
    if args.command == "keys" and args.action == "rotate-master":
        return keys_rotate_master(args.new_master_key_file, max(1, args.batch_size))
    if args.command == "keys" and args.action == "backup":
        return keys_backup(args.dir)
    if args.command == "audit" and args.action == "verify":
        return audit_verify(os.environ["DATABASE_URL"])
    if args.command == "privacy" and args.action == "requests":
        return privacy_requests(args)
    if args.command == "privacy" and args.action == "resolve":
        return privacy_resolve(args)
    print("usage: python -m services.customers --help", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    cli = ServiceCli("customers", MIGRATIONS, QUEUE, serve, migrate=migrate_both)
    add_commands(cli.commands)
    return cli.main(argv, run_command)


if __name__ == "__main__":
    sys.exit(main())
