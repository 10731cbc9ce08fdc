"""The ciphertexts: customers' encrypted PD fields. Their data keys are not here but in the
key store, a database of its own (``services.customers.keystore``), so a backup of this
database holds ciphertext only."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from uuid import UUID

from shared.db import DbConn

# --- Encrypted fields ----------------------------------------------------------------------


async def put_fields(conn: DbConn, customer_id: UUID, sealed: Mapping[str, bytes]) -> None:
    await conn.executemany(
        "INSERT INTO customer_pd (customer_id, field, ciphertext) VALUES ($1, $2, $3)"
        " ON CONFLICT (customer_id, field)"
        " DO UPDATE SET ciphertext = excluded.ciphertext, updated_at = now()",
        [(customer_id, field, value) for field, value in sealed.items()],
    )


async def delete_fields(conn: DbConn, customer_id: UUID, fields: Iterable[str]) -> None:
    await conn.execute(
        "DELETE FROM customer_pd WHERE customer_id = $1 AND field = ANY($2::text[])",
        customer_id,
        list(fields),
    )


async def get_fields(conn: DbConn, customer_id: UUID, fields: Iterable[str]) -> dict[str, bytes]:
    rows = await conn.fetch(
        "SELECT field, ciphertext FROM customer_pd WHERE customer_id = $1"
        " AND field = ANY($2::text[])",
        customer_id,
        list(fields),
    )
    return {row["field"]: row["ciphertext"] for row in rows}
