"""The stack's secrets as files in one private directory (``.local/`` for ``make up``).

Generated once and never overwritten: losing ``master.key`` makes every stored customer
unreadable. The directory is 0700, every file 0600.
"""

from __future__ import annotations

import base64
import os
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from shared.auth import generate_signing_key_pem


@dataclass(frozen=True)
class Secrets:
    directory: Path

    @property
    def master_key(self) -> Path:
        return self.directory / "master.key"

    @property
    def blind_index_key(self) -> Path:
        return self.directory / "blind_index.key"

    @property
    def jwt_private(self) -> Path:
        return self.directory / "jwt_private.pem"

    @property
    def jwt_public(self) -> Path:
        return self.directory / "jwt_public.pem"

    @property
    def internal_token(self) -> Path:
        return self.directory / "internal_token"

    @property
    def courier_secret(self) -> Path:
        return self.directory / "courier_secret"

    @property
    def bank_secret(self) -> Path:
        return self.directory / "bank_secret"

    @property
    def sms_secret(self) -> Path:
        return self.directory / "sms_secret"

    @property
    def unsubscribe_secret(self) -> Path:
        return self.directory / "unsubscribe_secret"

    def read(self, path: Path) -> str:
        return path.read_text().strip()


def write_secret(path: Path, text: str) -> None:
    """Create ``path`` readable by its owner alone; refuse to overwrite it."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.write(text)


def random_key() -> str:
    return base64.b64encode(secrets.token_bytes(32)).decode() + "\n"


def random_token() -> str:
    return secrets.token_urlsafe(32) + "\n"


def ensure_secrets(directory: Path, say: Callable[[str], None] | None = None) -> Secrets:
    """Generate what is missing in ``directory``; never overwrite what is there."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    found = Secrets(directory)
    made: list[Path] = []
    for path, make in (
        (found.master_key, random_key),
        (found.blind_index_key, random_key),
        (found.internal_token, random_token),
        (found.courier_secret, random_token),
        (found.bank_secret, random_token),
        (found.sms_secret, random_token),
        (found.unsubscribe_secret, random_token),
    ):
        if not path.exists():
            write_secret(path, make())
            made.append(path)
    if not (found.jwt_private.exists() and found.jwt_public.exists()):
        private, public = generate_signing_key_pem()
        for path, pem in ((found.jwt_private, private), (found.jwt_public, public)):
            path.unlink(missing_ok=True)
            write_secret(path, pem)
            made.append(path)
    if say is not None:
        for path in made:
            say(f"generated {path}")
    return found
