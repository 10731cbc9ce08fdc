-- A catalogue worth searching: a category tree, Kazakh names, attributes, images, archiving,
-- row versions, low-stock alerts and full-text plus trigram search.

CREATE EXTENSION IF NOT EXISTS pg_trgm;

-- A typo such as "парацитамол" for "парацетамол" scores 0.6 in word similarity: the default
-- threshold (0.6) is too tight for it, 0.45 still keeps unrelated words out.
DO $$
BEGIN
    EXECUTE format('ALTER DATABASE %I SET pg_trgm.word_similarity_threshold = 0.45',
                   current_database());
END
$$;

ALTER TABLE categories
    ADD COLUMN parent_id uuid REFERENCES categories (id),
    ADD COLUMN name_kk   text;
CREATE INDEX categories_parent ON categories (parent_id);

ALTER TABLE products
    ADD COLUMN name_kk             text,
    ADD COLUMN description_kk      text,
    ADD COLUMN image_urls          text[]  NOT NULL DEFAULT '{}',
    ADD COLUMN form                text,
    ADD COLUMN dosage              text,
    ADD COLUMN pack_size           integer CHECK (pack_size > 0),
    ADD COLUMN prescription_only   boolean NOT NULL DEFAULT false,
    -- An archived product is no longer sold or listed; it stays readable by id.
    ADD COLUMN archived_at         timestamptz,
    -- Raised by every change of the row (edits, stock moves): the events carry it.
    ADD COLUMN version             bigint  NOT NULL DEFAULT 1,
    -- catalog.stock.low once when the stock falls below the threshold; again only after
    -- it was refilled to the threshold or above.
    ADD COLUMN low_stock_threshold integer NOT NULL DEFAULT 5 CHECK (low_stock_threshold >= 0),
    ADD COLUMN low_stock_alerted   boolean NOT NULL DEFAULT false,
    -- Russian stemming for the Russian text; 'simple' (no stemming) for Kazakh, which
    -- PostgreSQL has no dictionary for, and for the SKU.
    ADD COLUMN search_vector tsvector GENERATED ALWAYS AS (
        setweight(to_tsvector('russian', name), 'A')
        || setweight(to_tsvector('simple', coalesce(name_kk, '')), 'A')
        || setweight(to_tsvector('simple', sku), 'A')
        || setweight(to_tsvector('russian', description), 'C')
        || setweight(to_tsvector('simple', coalesce(description_kk, '')), 'C')
    ) STORED,
    -- What trigram similarity compares a query with: typos and Kazakh word forms.
    ADD COLUMN search_text text GENERATED ALWAYS AS (
        lower(name || ' ' || coalesce(name_kk, '') || ' ' || sku)
    ) STORED;

CREATE INDEX products_search_vector ON products USING gin (search_vector);
CREATE INDEX products_search_trgm ON products USING gin (search_text gin_trgm_ops);
-- The listings' keyset orders (active products only).
CREATE INDEX products_live_name ON products (name, id) WHERE archived_at IS NULL;
CREATE INDEX products_live_price ON products (price, id) WHERE archived_at IS NULL;
CREATE INDEX products_live_new ON products (created_at, id) WHERE archived_at IS NULL;
