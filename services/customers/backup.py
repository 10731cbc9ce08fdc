"""Backups of the key store, kept briefly: ``python -m services.customers keys backup``.

A backup is a ``pg_dump`` of the key store (custom format) named by its UTC time
(``keystore-20261203T101500Z.dump``); every run then deletes the key-store backups in the
same directory older than ``keystore_backup_retention_days``. That retention is the longest
a shredded customer can be brought back from any backup: the customers database's own
backups (kept as long as the operator likes) hold ciphertext only, and the key that opens
it is in no backup older than the retention. The password of the database, if any, goes to
``pg_dump`` through its environment, never its command line.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import unquote, urlsplit, urlunsplit

PREFIX = "keystore-"
STAMP = "%Y%m%dT%H%M%SZ"
_NAME = re.compile(r"^keystore-(\d{8}T\d{6}Z)\.dump$")


class BackupError(Exception):
    """pg_dump failed; its exit status (its output is on stderr)."""


@dataclass(frozen=True)
class Backup:
    path: Path
    pruned: list[Path]


def without_password(dsn: str) -> tuple[str, dict[str, str]]:
    """The URL without its password, and the environment that gives it to libpq."""
    parts = urlsplit(dsn)
    if parts.password is None:
        return dsn, {}
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{parts.username or ''}@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc)), {"PGPASSWORD": unquote(parts.password)}


def backup_name(at: datetime) -> str:
    return f"{PREFIX}{at.astimezone(UTC).strftime(STAMP)}.dump"


def taken_at(path: Path) -> datetime | None:
    """When a key-store backup was taken (from its name); None for any other file."""
    found = _NAME.match(path.name)
    if found is None:
        return None
    return datetime.strptime(found.group(1), STAMP).replace(tzinfo=UTC)


def expired(directory: Path, retention: timedelta, now: datetime) -> list[Path]:
    """The key-store backups in ``directory`` older than ``retention``."""
    out = []
    for path in sorted(directory.glob(f"{PREFIX}*.dump")):
        at = taken_at(path)
        if at is not None and now - at > retention:
            out.append(path)
    return out


def backup_keystore(
    dsn: str, directory: Path, retention: timedelta, now: datetime | None = None
) -> Backup:
    """Dump the key store into ``directory`` (mode 0600) and prune the expired backups."""
    at = now or datetime.now(UTC)
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    path = directory / backup_name(at)
    url, secret = without_password(dsn)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as out:
        done = subprocess.run(
            ["pg_dump", "--format=custom", "--no-owner", "--dbname", url],
            stdout=out,
            env={**os.environ, **secret},
            check=False,
        )
    if done.returncode != 0:
        path.unlink(missing_ok=True)
        raise BackupError(f"pg_dump exited with {done.returncode}")
    pruned = expired(directory, retention, at)
    for old in pruned:
        old.unlink()
    return Backup(path, pruned)
