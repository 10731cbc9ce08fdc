"""The personal-data vault's cryptography: pure functions over bytes, no I/O.

- Each customer has a random 256-bit data key, stored only wrapped (AES-GCM) by the master
  key, with the customer id as associated data (a wrapped key cannot be moved to another row).
- Each PD field is AES-GCM encrypted under the data key; the associated data binds the
  customer id and the field name, so a ciphertext cannot be swapped between fields or people.
- Destroying the wrapped data key makes every field of that customer unrecoverable
  (crypto-shredding).
- Blind index: HMAC-SHA256 of a normalised email or E.164 phone under its own key, for login
  lookup and uniqueness without plaintext.
- ``OutboxCipher`` seals outbox bodies (dispatch messages carry PD) under a key derived from
  the master key by HKDF.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Mapping, Sequence
from typing import Literal
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

FORMAT_V1 = b"\x01"
NONCE_BYTES = 12
KEY_BYTES = 32
IndexKind = Literal["email", "phone"]


class VaultError(Exception):
    """A ciphertext could not be opened: wrong key, tampered data or a shredded key."""


def _seal(key: bytes, plaintext: bytes, aad: bytes) -> bytes:
    nonce = os.urandom(NONCE_BYTES)
    return FORMAT_V1 + nonce + AESGCM(key).encrypt(nonce, plaintext, aad)


def _open(key: bytes, sealed: bytes, aad: bytes) -> bytes:
    return _open_with(AESGCM(key), sealed, aad)


def _open_with(aead: AESGCM, sealed: bytes, aad: bytes) -> bytes:
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != FORMAT_V1:
        raise VaultError("unknown ciphertext format")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return aead.decrypt(nonce, body, aad)
    except InvalidTag:
        raise VaultError("ciphertext does not open with this key") from None


def _open_any(aeads: Sequence[AESGCM], sealed: bytes, aad: bytes) -> bytes:
    """Open with the first key that fits (the current key first, then previous ones)."""
    for aead in aeads[:-1]:
        try:
            return _open_with(aead, sealed, aad)
        except VaultError:
            continue
    return _open_with(aeads[-1], sealed, aad)


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(
        master_key
    )


class OutboxCipher:
    """``shared.messaging.BodyCipher`` for the customers outbox: AES-GCM, HKDF-derived key."""

    _AAD = b"customers.outbox.v1"

    def __init__(self, master_key: bytes, previous: Sequence[bytes] = ()) -> None:
        self._key = _derive(master_key, b"customers outbox body key v1")
        self._aeads = [
            AESGCM(_derive(key, b"customers outbox body key v1")) for key in (master_key, *previous)
        ]

    def seal(self, plaintext: bytes) -> bytes:
        return _seal(self._key, plaintext, self._AAD)

    def open(self, sealed: bytes) -> bytes:
        return _open_any(self._aeads, sealed, self._AAD)


def master_fingerprint(master_key: bytes) -> bytes:
    """A one-way check value of a master key: tells key versions apart, reveals nothing."""
    return _derive(master_key, b"customers master-key fingerprint v1")


class Vault:
    def __init__(
        self, master_key: bytes, blind_index_key: bytes, previous_master_keys: Sequence[bytes] = ()
    ) -> None:
        if any(len(key) != KEY_BYTES for key in (master_key, *previous_master_keys)):
            raise ValueError("the master key must be 32 bytes")
        if len(blind_index_key) < KEY_BYTES:
            raise ValueError("the blind-index key must be at least 32 bytes")
        self._wrap_key = _derive(master_key, b"customers data-key wrapping key v1")
        self._unwrap_aeads = [
            AESGCM(_derive(key, b"customers data-key wrapping key v1"))
            for key in (master_key, *previous_master_keys)
        ]
        self._index_key = blind_index_key
        self.master_fingerprint = master_fingerprint(master_key)
        self.outbox_cipher = OutboxCipher(master_key, previous_master_keys)

    # Data keys -------------------------------------------------------------------------
    @staticmethod
    def new_data_key() -> bytes:
        return os.urandom(KEY_BYTES)

    def wrap(self, customer_id: UUID, data_key: bytes) -> bytes:
        return _seal(self._wrap_key, data_key, b"data-key:" + customer_id.bytes)

    def unwrap(self, customer_id: UUID, wrapped: bytes) -> bytes:
        return _open_any(self._unwrap_aeads, wrapped, b"data-key:" + customer_id.bytes)

    # Fields ----------------------------------------------------------------------------
    @staticmethod
    def encrypt_field(data_key: bytes, customer_id: UUID, field: str, value: str) -> bytes:
        return _seal(data_key, value.encode(), _field_aad(customer_id, field))

    @staticmethod
    def decrypt_field(data_key: bytes, customer_id: UUID, field: str, sealed: bytes) -> str:
        return _open(data_key, sealed, _field_aad(customer_id, field)).decode()

    @staticmethod
    def decrypt_fields(
        data_key: bytes, customer_id: UUID, sealed: Mapping[str, bytes]
    ) -> dict[str, str]:
        """Open several fields of one customer with one cipher object (the batch path)."""
        aead = AESGCM(data_key)
        return {
            field: _open_with(aead, value, _field_aad(customer_id, field)).decode()
            for field, value in sealed.items()
        }

    # Blind index -----------------------------------------------------------------------
    def blind_index(self, kind: IndexKind, normalised: str) -> bytes:
        """Keyed hash of an already normalised email (lower-case) or E.164 phone."""
        message = f"{kind}:{normalised}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).digest()

    def throttle_key(self, scope: str, value: str) -> bytes:
        """Keyed hash for a throttle counter whose value is not a valid login or is a network."""
        message = f"throttle:{scope}:{value}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).digest()


def _field_aad(customer_id: UUID, field: str) -> bytes:
    return b"pd:" + customer_id.bytes + b":" + field.encode()
