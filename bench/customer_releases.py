"""Batch release of contacts for a marketing campaign: contacts/s with decryption against
the same work without encryption, in the same run.

``PdGate.release_contacts`` takes a list of customer ids and, for the consenting, active
ones, decrypts email and first name (one query for the sealed fields, one for their keys in
the key store, AES-GCM via ``cryptography``) and records the audit rows and the disclosures
with COPY. The baseline runs the very same function on a database seeded through a vault
whose "ciphertexts" are the plaintext (no wrapping, no AES), so the ratio is the cost of the
encryption alone.
"""

from __future__ import annotations

import asyncio
import os
import time
from typing import Any
from uuid import UUID, uuid4

from bench.env import bench_database, bench_servers
from deploy.stack import KEYSTORE
from services.customers import storage
from services.customers.crypto import Vault
from services.customers.domain import Operator, consent_record, marketing_record
from services.customers.keystore import KeyStore
from services.customers.personal_data import PdGate, now
from shared.db import DbConn, create_pool

CUSTOMERS = 20_000
BATCH = 1_000
ROUNDS = 3
CONSENTING_SHARE = 0.8  # one in five customers has not given marketing consent
PASSWORD_HASH = "$argon2id$v=19$m=65536,t=3,p=4$c2FsdHNhbHRzYWx0$bench/not/a/real/hash"


class PlainVault(Vault):
    """The same code path without cryptography: stored bytes are the plaintext."""

    def wrap(self, customer_id: UUID, data_key: bytes) -> bytes:
        return data_key

    def unwrap(self, customer_id: UUID, wrapped: bytes) -> bytes:
        return wrapped

    @staticmethod
    def encrypt_field(data_key: bytes, customer_id: UUID, field: str, value: str) -> bytes:
        return value.encode()

    @staticmethod
    def decrypt_field(data_key: bytes, customer_id: UUID, field: str, sealed: bytes) -> str:
        return sealed.decode()

    @staticmethod
    def decrypt_fields(data_key: bytes, customer_id: UUID, sealed: Any) -> dict[str, str]:
        return {field: value.decode() for field, value in sealed.items()}


def make_vault(plain: bool, master: bytes | None = None, blind: bytes | None = None) -> Vault:
    kind = PlainVault if plain else Vault
    return kind(master or os.urandom(32), blind or os.urandom(32))


def _pd(i: int) -> dict[str, str]:
    return {
        "last_name": f"Фамилия{i}",
        "first_name": f"Имя{i}",
        "phone": f"+7701{i:07d}",
        "email": f"customer{i}@example.kz",
        "delivery_address": '{"city": "Алматы", "house": "1", "street": "Абая"}',
    }


async def seed(
    conn: DbConn,
    keystore: DbConn,
    vault: Vault,
    n: int,
    *,
    declining_every: int = 5,
    first: int = 0,
) -> list[UUID]:
    """n customers straight into the tables (COPY), their keys into the key store, as
    registration would leave them; every ``declining_every``-th without marketing consent
    (0: all consent). ``first`` numbers their contacts (seeding in chunks)."""
    policy = await storage.current_policy(conn)
    operator = Operator("bench operator", "000000000000")
    ids = [uuid4() for _ in range(n)]
    customers: list[tuple[Any, ...]] = []
    keys: list[tuple[Any, ...]] = []
    fields: list[tuple[Any, ...]] = []
    consents: list[tuple[Any, ...]] = []
    for i, cid in enumerate(ids, start=first):
        values = _pd(i)
        customers.append(
            (
                cid,
                "ru",
                PASSWORD_HASH,
                vault.blind_index("email", values["email"]),
                vault.blind_index("phone", values["phone"]),
                policy.version,
            )
        )
        data_key = vault.new_data_key()
        keys.append((cid, vault.wrap(cid, data_key)))
        fields.extend((cid, f, vault.encrypt_field(data_key, cid, f, v)) for f, v in values.items())
        record = consent_record(
            operator=operator,
            subject_id=cid,
            policy_version=policy.version,
            policy_sha256=policy.sha256,
            accepted_at=now(),
        )
        consents.append((cid, "pd_processing", True, policy.version, record))
        granted = not declining_every or (i % declining_every) != 0
        consents.append(
            (
                cid,
                "marketing_email",
                granted,
                policy.version,
                marketing_record(cid, "email", granted, now()),
            )
        )
    await conn.copy_records_to_table(
        "customers",
        records=customers,
        columns=["id", "locale", "password_hash", "email_index", "phone_index", "policy_version"],
    )
    await keystore.copy_records_to_table(
        "customer_keys", records=keys, columns=["customer_id", "wrapped_key"]
    )
    await keystore.execute("ANALYZE")
    await conn.copy_records_to_table(
        "customer_pd", records=fields, columns=["customer_id", "field", "ciphertext"]
    )
    await conn.executemany(
        "INSERT INTO consents (customer_id, kind, granted, policy_version, record)"
        " VALUES ($1, $2, $3, $4, $5)",
        consents,
    )
    await conn.execute("ANALYZE")
    return ids


async def measure(dsn: str, keystore_dsn: str, plain: bool) -> dict[str, float]:
    vault = make_vault(plain)
    pool = await create_pool(dsn, min_size=1, max_size=1)
    gate = PdGate(vault, KeyStore(keystore_dsn))
    await gate.keys.open(max_size=1)
    try:
        async with pool.acquire() as conn, gate.keys.pool.acquire() as keys_conn:
            ids = await seed(conn, keys_conn, vault, CUSTOMERS)
            released = 0
            started = time.perf_counter()
            for _ in range(ROUNDS):
                for at in range(0, len(ids), BATCH):
                    async with conn.transaction():
                        batch = await gate.release_contacts(
                            conn, ids[at : at + BATCH], "email", "marketing", "notifications:bench"
                        )
                    released += len(batch)
            elapsed = time.perf_counter() - started
            assert released == round(ROUNDS * CUSTOMERS * CONSENTING_SHARE)
    finally:
        await gate.keys.close()
        await pool.close()
    return {"asked_per_s": ROUNDS * CUSTOMERS / elapsed, "released_per_s": released / elapsed}


async def run() -> dict[str, float]:
    results: dict[str, dict[str, float]] = {}
    with bench_servers() as servers:
        for name, plain in (("encrypted", False), ("plaintext", True)):
            async with (
                bench_database(servers, "customers") as dsn,
                bench_database(servers, KEYSTORE) as keystore_dsn,
            ):
                results[name] = await measure(dsn, keystore_dsn, plain)
    enc, bare = results["encrypted"], results["plaintext"]
    for name, figures in results.items():
        print(
            f"customer releases {name:9s} {figures['released_per_s']:8.0f} contacts/s released"
            f"  ({figures['asked_per_s']:.0f} ids/s asked, batches of {BATCH})"
        )
    ratio = enc["released_per_s"] / bare["released_per_s"]
    print(f"customer releases encrypted / plaintext {ratio:8.2f}  (goal >= 5,000 contacts/s)")
    return {"ratio": ratio, "released_per_s": enc["released_per_s"]}


if __name__ == "__main__":
    asyncio.run(run())
