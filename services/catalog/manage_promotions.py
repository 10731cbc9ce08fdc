"""Promotions, the use case: create and edit one (by staff), each in one transaction with the
announcement it makes due (``promotion_events``)."""

from __future__ import annotations

from datetime import datetime
from uuid import UUID, uuid4

import asyncpg

from services.catalog import promotion_events, promotion_storage
from services.catalog.promotions import (
    Discount,
    Promotion,
    PromotionIn,
    PromotionPatch,
    apply_patch,
)

UnknownCategory = promotion_storage.UnknownCategory
UnknownProducts = promotion_storage.UnknownProducts


class PromotionOver(ValueError):
    """A new promotion must end in the future."""


async def create(
    pool: asyncpg.Pool, body: PromotionIn, created_by: UUID, now: datetime
) -> Promotion:
    """Raises ``PromotionOver``, ``UnknownCategory`` or ``UnknownProducts``."""
    if body.ends_at <= now:
        raise PromotionOver()
    draft = Promotion(
        id=uuid4(),
        name=body.name,
        discount=Discount.of(body.discount),
        product_ids=tuple(sorted(body.product_ids or ())),
        category=body.category,
        starts_at=body.starts_at,
        ends_at=body.ends_at,
        status="active",
        stopped_at=None,
        created_at=now,
        updated_at=now,
    )
    async with pool.acquire() as conn, conn.transaction():
        await promotion_storage.insert(conn, draft, created_by)
        await promotion_events.announce(conn, draft.id, now)
        created = await promotion_storage.get(conn, draft.id)
    assert created is not None
    return created


async def edit(
    pool: asyncpg.Pool, promotion_id: UUID, patch: PromotionPatch, now: datetime
) -> Promotion | None:
    """The edited promotion, None if there is none; raises ``PromotionConflict``,
    ``ValueError`` (an invalid result), ``UnknownCategory`` or ``UnknownProducts``."""
    async with pool.acquire() as conn, conn.transaction():
        current = await promotion_storage.get(conn, promotion_id, lock=True)
        if current is None:
            return None
        changed = apply_patch(current, patch, now)
        scope_changed = (changed.product_ids, changed.category) != (
            current.product_ids,
            current.category,
        )
        await promotion_storage.update(conn, changed, scope_changed=scope_changed)
        await promotion_events.announce(conn, promotion_id, now)
        return await promotion_storage.get(conn, promotion_id)
