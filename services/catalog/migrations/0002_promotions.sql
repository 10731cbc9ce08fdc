-- Promotions: a discount (percent or a fixed amount in tiyn) on a list of products or on a
-- category, for a time window. Nothing about a customer: created_by is a staff member's id.

CREATE TABLE promotions (
    id                uuid        PRIMARY KEY,
    name              text        NOT NULL,
    -- Exactly one of the two: percent off (1-99), or tiyn off each unit (KZT).
    percent_off       integer     CHECK (percent_off BETWEEN 1 AND 99),
    amount_off        bigint      CHECK (amount_off > 0),
    -- Scope: the category's products, or (category_id NULL) the rows of promotion_products.
    category_id       uuid        REFERENCES categories (id),
    starts_at         timestamptz NOT NULL,
    ends_at           timestamptz NOT NULL,
    -- 'active' runs on its window; 'ended_early' was stopped while live, 'cancelled' before
    -- it began (stopped_at says when). Scheduled/live/ended follow from the clock.
    status            text        NOT NULL DEFAULT 'active'
                      CHECK (status IN ('active', 'ended_early', 'cancelled')),
    stopped_at        timestamptz,
    created_by        uuid        NOT NULL,
    -- Set in the transaction that writes PromotionStarted / PromotionEnded to the outbox:
    -- each event once, whichever scheduler replica or request gets there first.
    started_announced boolean     NOT NULL DEFAULT false,
    ended_announced   boolean     NOT NULL DEFAULT false,
    created_at        timestamptz NOT NULL DEFAULT now(),
    updated_at        timestamptz NOT NULL DEFAULT now(),
    CHECK ((percent_off IS NULL) <> (amount_off IS NULL)),
    CHECK (ends_at > starts_at),
    CHECK ((status = 'active') = (stopped_at IS NULL))
);
-- The scheduler looks for promotions to announce; product reads for the live ones.
CREATE INDEX promotions_to_start ON promotions (starts_at) WHERE NOT started_announced;
CREATE INDEX promotions_to_end ON promotions (ends_at)
    WHERE started_announced AND NOT ended_announced;
CREATE INDEX promotions_active_window ON promotions (ends_at, starts_at) WHERE status = 'active';
CREATE INDEX promotions_category ON promotions (category_id) WHERE category_id IS NOT NULL;
CREATE INDEX promotions_created ON promotions (created_at DESC, id DESC);

CREATE TABLE promotion_products (
    promotion_id uuid NOT NULL REFERENCES promotions (id) ON DELETE CASCADE,
    product_id   uuid NOT NULL REFERENCES products (id),
    PRIMARY KEY (promotion_id, product_id)
);
CREATE INDEX promotion_products_product ON promotion_products (product_id);
