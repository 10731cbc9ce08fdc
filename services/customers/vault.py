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
    if len(sealed) < 1 + NONCE_BYTES + 16 or sealed[:1] != FORMAT_V1:
        raise VaultError("unknown ciphertext format")
    nonce, body = sealed[1 : 1 + NONCE_BYTES], sealed[1 + NONCE_BYTES :]
    try:
        return AESGCM(key).decrypt(nonce, body, aad)
    except InvalidTag:
        raise VaultError("ciphertext does not open with this key") from None


def _derive(master_key: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(
        master_key
    )


class OutboxCipher:
    """``shared.messaging.BodyCipher`` for the customers outbox: AES-GCM, HKDF-derived key."""

    _AAD = b"customers.outbox.v1"

    def __init__(self, master_key: bytes) -> None:
        self._key = _derive(master_key, b"customers outbox body key v1")

    def seal(self, plaintext: bytes) -> bytes:
        return _seal(self._key, plaintext, self._AAD)

    def open(self, sealed: bytes) -> bytes:
        return _open(self._key, sealed, self._AAD)


class Vault:
    def __init__(self, master_key: bytes, blind_index_key: bytes) -> None:
        if len(master_key) != KEY_BYTES:
            raise ValueError("the master key must be 32 bytes")
        if len(blind_index_key) < KEY_BYTES:
            raise ValueError("the blind-index key must be at least 32 bytes")
        self._wrap_key = _derive(master_key, b"customers data-key wrapping key v1")
        self._index_key = blind_index_key
        self.outbox_cipher = OutboxCipher(master_key)

    # Data keys -------------------------------------------------------------------------
    @staticmethod
    def new_data_key() -> bytes:
        return os.urandom(KEY_BYTES)

    def wrap(self, customer_id: UUID, data_key: bytes) -> bytes:
        return _seal(self._wrap_key, data_key, b"data-key:" + customer_id.bytes)

    def unwrap(self, customer_id: UUID, wrapped: bytes) -> bytes:
        return _open(self._wrap_key, wrapped, b"data-key:" + customer_id.bytes)

    # Fields ----------------------------------------------------------------------------
    @staticmethod
    def encrypt_field(data_key: bytes, customer_id: UUID, field: str, value: str) -> bytes:
        return _seal(data_key, value.encode(), _field_aad(customer_id, field))

    @staticmethod
    def decrypt_field(data_key: bytes, customer_id: UUID, field: str, sealed: bytes) -> str:
        return _open(data_key, sealed, _field_aad(customer_id, field)).decode()

    # Blind index -----------------------------------------------------------------------
    def blind_index(self, kind: IndexKind, normalised: str) -> bytes:
        """Keyed hash of an already normalised email (lower-case) or E.164 phone."""
        message = f"{kind}:{normalised}".encode()
        return hmac.new(self._index_key, message, hashlib.sha256).digest()


def _field_aad(customer_id: UUID, field: str) -> bytes:
    return b"pd:" + customer_id.bytes + b":" + field.encode()
