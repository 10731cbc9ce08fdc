"""The audit log: rows appended pending, then sealed onto the hash chain; the chain check."""

from __future__ import annotations

from collections.abc import Sequence

from shared.db import DbConn

from ..domain import GENESIS, AuditEntry, audit_hash

AUDIT_LOCK = 7_404_310_1  # serialises appends to the audit hash chain


_AUDIT_COLUMNS = ["at", "actor", "action", "customer_id", "purpose", "fields"]


def _audit_record(entry: AuditEntry) -> tuple[object, ...]:
    return (
        entry.at,
        entry.actor,
        entry.action,
        entry.customer_id,
        entry.purpose,
        list(entry.fields),
    )


async def append_audit(conn: DbConn, entry: AuditEntry) -> None:
    """Record one use of PD in the caller's transaction; the chainer seals it later."""
    await conn.execute(
        "INSERT INTO audit_pending (at, actor, action, customer_id, purpose, fields)"
        " VALUES ($1, $2, $3, $4, $5, $6)",
        *_audit_record(entry),
    )


async def append_audit_many(conn: DbConn, entries: Sequence[AuditEntry]) -> None:
    """Record a batch of uses of PD with one COPY (inside the caller's transaction)."""
    if entries:
        await conn.copy_records_to_table(
            "audit_pending",
            records=[_audit_record(entry) for entry in entries],
            columns=_AUDIT_COLUMNS,
        )


async def chain_pending_audit(conn: DbConn, limit: int = 5_000) -> int:
    """Move up to ``limit`` pending rows, oldest first, onto the hash chain; return how many.

    Runs in its own transaction; the advisory lock keeps concurrent chainers (several
    replicas) in one order.
    """
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock($1)", AUDIT_LOCK)
        pending = await conn.fetch(
            "DELETE FROM audit_pending WHERE id IN"
            " (SELECT id FROM audit_pending ORDER BY id LIMIT $1)"
            " RETURNING id, at, actor, action, customer_id, purpose, fields",
            limit,
        )
        if not pending:
            return 0
        previous: bytes | None = await conn.fetchval(
            "SELECT hash FROM audit_log ORDER BY id DESC LIMIT 1"
        )
        prev = previous or GENESIS
        records = []
        for row in sorted(pending, key=lambda r: r["id"]):
            entry = AuditEntry(
                row["at"],
                row["actor"],
                row["action"],
                row["customer_id"],
                row["purpose"],
                tuple(row["fields"]),
            )
            digest = audit_hash(prev, entry)
            records.append((*_audit_record(entry), prev, digest))
            prev = digest
        await conn.copy_records_to_table(
            "audit_log", records=records, columns=[*_AUDIT_COLUMNS, "prev_hash", "hash"]
        )
        return len(records)


async def first_broken_audit_row(conn: DbConn) -> tuple[int, int | None]:
    """Walk the chain: (rows checked, id of the first row whose link or hash is wrong)."""
    prev = GENESIS
    count = 0
    async with conn.transaction():
        async for row in conn.cursor("SELECT * FROM audit_log ORDER BY id"):
            entry = AuditEntry(
                at=row["at"],
                actor=row["actor"],
                action=row["action"],
                customer_id=row["customer_id"],
                purpose=row["purpose"],
                fields=tuple(row["fields"]),
            )
            if row["prev_hash"] != prev or row["hash"] != audit_hash(prev, entry):
                return count, int(row["id"])
            prev = row["hash"]
            count += 1
    return count, None


async def seal_all_pending_audit(conn: DbConn) -> None:
    while await chain_pending_audit(conn):
        pass


async def verify_audit_chain(conn: DbConn) -> int:
    """Seal what is pending, check every link of the chain; return the number of rows or
    raise ValueError."""
    await seal_all_pending_audit(conn)
    count, broken = await first_broken_audit_row(conn)
    if broken is not None:
        raise ValueError(f"audit chain broken at row {broken}")
    return count
