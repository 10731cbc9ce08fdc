"""The batch release of contacts for a campaign: who is released, what, and the records."""

from __future__ import annotations

from uuid import UUID

import pytest

from services.customers.domain import PurposeNotAllowed
from services.customers.keys import ACCOUNTS
from services.customers.storage import chain_pending_audit, verify_audit_chain
from tests.customers.conftest import Shop


async def test_release_contacts_only_consenting_active_customers(shop: Shop) -> None:
    yes = UUID(await shop.register(marketing={"email": True, "sms": False}))
    no = UUID(
        await shop.register(
            email="no@example.kz", phone="+77019998877", marketing={"email": False, "sms": True}
        )
    )
    blocked = UUID(
        await shop.register(
            email="blocked@example.kz",
            phone="+77051112233",
            first_name="Дана",
            marketing={"email": True, "sms": True},
        )
    )
    second = UUID(
        await shop.register(
            email="second@example.kz",
            phone="+77076665544",
            first_name="Ерлан",
            marketing={"email": True, "sms": False},
        )
    )
    conn = await shop.db()
    gate = shop.app[ACCOUNTS].gate
    try:
        await conn.execute("UPDATE customers SET status = 'blocked' WHERE id = $1", blocked)
        async with conn.transaction():
            released = await gate.release_contacts(
                conn, [yes, no, blocked, second], "email", "marketing", "notifications:promo"
            )
        by_id = {r.customer_id: r for r in released}
        assert set(by_id) == {yes, second}
        assert by_id[yes].fields == {"email": "aigerim.test@example.kz", "first_name": "Айгерим"}
        assert by_id[second].fields == {"email": "second@example.kz", "first_name": "Ерлан"}
        assert by_id[yes].locale == "kk"
        rows = await conn.fetch(
            "SELECT release_id, customer_id, recipient, purpose, fields, legal_basis"
            " FROM disclosures ORDER BY customer_id"
        )
        assert {r["release_id"] for r in rows} == {r.release_id for r in released}
        assert all(r["fields"] == ["email", "first_name"] for r in rows)
        assert all(r["purpose"] == "marketing" and "3.2.8" in r["legal_basis"] for r in rows)
        await chain_pending_audit(conn)
        audit = await conn.fetch(
            "SELECT customer_id, fields FROM audit_log WHERE action = 'read'"
            " AND actor = 'service:notifications:promo'"
        )
        assert {r["customer_id"] for r in audit} == {yes, second}
        assert await verify_audit_chain(conn) >= 6
        # SMS for service messages: no consent needed, blocked still skipped.
        async with conn.transaction():
            sms = await gate.release_contacts(
                conn, [yes, no, blocked], "sms", "service_communication", "notifications:sms"
            )
        assert {r.customer_id for r in sms} == {yes, no}
        assert sms[0].fields.keys() == {"phone", "first_name"}
        with pytest.raises(PurposeNotAllowed):
            await gate.release_contacts(conn, [yes], "courier", "delivery", "x")
        with pytest.raises(PurposeNotAllowed):
            await gate.release_contacts(conn, [yes], "email", "support", "x")
    finally:
        await conn.close()
