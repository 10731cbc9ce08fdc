"""The vault's cryptography and the release table, without I/O."""

from __future__ import annotations

import os
from uuid import uuid4

import pytest

from services.customers.crypto import OutboxCipher, Vault, VaultError
from services.customers.domain import PurposeNotAllowed, check_release, project, release_fields
from services.customers.request_models import normalise_email, normalise_phone


def vault(master: bytes | None = None, blind: bytes | None = None) -> Vault:
    return Vault(master or os.urandom(32), blind or os.urandom(32))


def test_field_round_trip_and_binding() -> None:
    v = vault()
    a, b = uuid4(), uuid4()
    key = v.new_data_key()
    sealed = v.encrypt_field(key, a, "email", "a@example.kz")
    assert b"a@example.kz" not in sealed
    assert v.decrypt_field(key, a, "email", sealed) == "a@example.kz"
    with pytest.raises(VaultError):  # moved to another field
        v.decrypt_field(key, a, "phone", sealed)
    with pytest.raises(VaultError):  # moved to another customer
        v.decrypt_field(key, b, "email", sealed)
    with pytest.raises(VaultError):  # another data key
        v.decrypt_field(v.new_data_key(), a, "email", sealed)


def test_wrapped_key_is_bound_to_customer_and_master() -> None:
    master = os.urandom(32)
    v = vault(master)
    customer = uuid4()
    key = v.new_data_key()
    wrapped = v.wrap(customer, key)
    assert key not in wrapped
    assert v.unwrap(customer, wrapped) == key
    with pytest.raises(VaultError):
        v.unwrap(uuid4(), wrapped)
    with pytest.raises(VaultError):
        vault().unwrap(customer, wrapped)
    assert vault(master).unwrap(customer, wrapped) == key


def test_blind_index_depends_on_key_and_normalised_value() -> None:
    blind = os.urandom(32)
    one, same, other = vault(blind=blind), vault(blind=blind), vault()
    email = normalise_email("Aigerim@Example.KZ")
    assert one.blind_index("email", email) == same.blind_index("email", email)
    assert one.blind_index("email", email) != other.blind_index("email", email)
    assert one.blind_index("email", email) == one.blind_index(
        "email", normalise_email("aigerim@example.kz")
    )
    assert one.blind_index("phone", "+77012345678") != one.blind_index("email", "+77012345678")
    assert (
        normalise_phone("8 701 234 56 78")
        == normalise_phone("+7 (701) 234-56-78")
        == "+77012345678"
    )


def test_outbox_cipher() -> None:
    master = os.urandom(32)
    cipher = OutboxCipher(master)
    sealed = cipher.seal(b'{"phone": "+77012345678"}')
    assert b"+7701" not in sealed
    assert OutboxCipher(master).open(sealed) == b'{"phone": "+77012345678"}'
    with pytest.raises(VaultError):
        OutboxCipher(os.urandom(32)).open(sealed)


def test_bad_keys_are_refused() -> None:
    with pytest.raises(ValueError):
        Vault(os.urandom(16), os.urandom(32))
    with pytest.raises(ValueError):
        Vault(os.urandom(32), os.urandom(8))


def test_release_table() -> None:
    assert release_fields("delivery", "courier") == {"recipient_name", "phone", "delivery_address"}
    assert release_fields("service_communication", "email") == {"email", "first_name"}
    assert release_fields("marketing", "sms") == {"phone", "first_name"}
    assert release_fields("payment", "bank") == frozenset()
    with pytest.raises(PurposeNotAllowed):
        release_fields("marketing", "courier")
    with pytest.raises(PurposeNotAllowed):
        check_release("delivery", "courier", frozenset({"email"}))
    with pytest.raises(PurposeNotAllowed):
        check_release("payment", "bank", frozenset({"phone"}))
    pd = {"first_name": "Айгерим", "last_name": "Жумабекова", "phone": "+77012345678"}
    assert project(frozenset({"recipient_name", "phone"}), pd) == {
        "recipient_name": "Айгерим Жумабекова",
        "phone": "+77012345678",
    }


def test_region_must_be_kz() -> None:
    from services.customers.config import Settings

    with pytest.raises(ValueError, match="Kazakhstan"):
        Settings(database_url="postgresql://x/y", pd_store_region="EU")
    with pytest.raises(ValueError, match="Kazakhstan"):
        Settings(database_url="postgresql://x/y")
    assert Settings(database_url="postgresql://x/y", pd_store_region="KZ").pd_store_region == "KZ"
