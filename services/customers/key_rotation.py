"""Master-key rotation, run from the command line.

Rotation re-wraps every customer's data key under a new master key; the field ciphertexts
are not touched. It runs in batches, each its own transaction, and only picks rows whose
``key_version`` is not the new key's version, so an interrupted run is simply run again.
Everything it touches is in the key store (``keystore.py``): ``conn`` is a connection to it.
"""

from __future__ import annotations

from dataclasses import dataclass
from uuid import UUID

from shared.db import DbConn

from . import keystore
from .crypto import Vault, VaultError, master_fingerprint


class RotationError(Exception):
    """The rotation cannot start or a data key opens with neither master key."""


@dataclass(frozen=True)
class Rotation:
    version: int
    rewrapped: int
    remaining: int


async def _versions(conn: DbConn, old_master: bytes, new_master: bytes) -> int:
    """Register both keys' fingerprints (the old one as version 1 on a first rotation)."""
    async with conn.transaction():
        first = await keystore.master_key_version(conn, master_fingerprint(old_master))
        if first is None:
            await keystore.register_master_key(conn, master_fingerprint(old_master), None)
        return await keystore.register_master_key(conn, master_fingerprint(new_master), None)


def _rewrap(
    vault: Vault, rows: list[tuple[UUID, bytes]], customer_ids: set[UUID]
) -> list[tuple[UUID, bytes]]:
    out = []
    for customer_id, wrapped in rows:
        try:
            data_key = vault.unwrap(customer_id, wrapped)
        except VaultError:
            customer_ids.add(customer_id)
            continue
        out.append((customer_id, vault.wrap(customer_id, data_key)))
    return out


async def rotate_master(
    conn: DbConn,
    old_master: bytes,
    new_master: bytes,
    *,
    batch_size: int = 500,
    max_batches: int | None = None,
) -> Rotation:
    """Re-wrap data keys under ``new_master``; resumable; stops after ``max_batches``."""
    if old_master == new_master:
        raise RotationError("the new master key is the current one")
    version = await _versions(conn, old_master, new_master)
    # Opens keys wrapped by either master (replicas may already wrap under the new one).
    vault = Vault(new_master, b"\0" * 32, (old_master,))
    unreadable: set[UUID] = set()
    done = batches = 0
    after: UUID | None = None
    while max_batches is None or batches < max_batches:
        async with conn.transaction():
            rows = await keystore.keys_to_rewrap(conn, version, after, batch_size)
            if not rows:
                break
            pairs = [(r["customer_id"], r["wrapped_key"]) for r in rows]
            rewrapped = _rewrap(vault, pairs, unreadable)
            await keystore.put_rewrapped(conn, version, rewrapped)
        after = pairs[-1][0]
        done += len(rewrapped)
        batches += 1
    remaining = await keystore.count_keys_not_at(conn, version)
    if unreadable:
        raise RotationError(f"{len(unreadable)} data key(s) open with neither master key")
    return Rotation(version, done, remaining)
