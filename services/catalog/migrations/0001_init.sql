-- Catalog: categories, products, stock reservations per order, storefront visit statistics.

CREATE TABLE categories (
    id         uuid        PRIMARY KEY,
    slug       text        NOT NULL UNIQUE,
    name       text        NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE products (
    id          uuid        PRIMARY KEY,
    sku         text        NOT NULL UNIQUE,
    name        text        NOT NULL,
    description text        NOT NULL DEFAULT '',
    category_id uuid        NOT NULL REFERENCES categories (id),
    -- Price in tiyn (1/100 tenge), KZT.
    price       bigint      NOT NULL CHECK (price >= 0),
    weight_g    integer     NOT NULL CHECK (weight_g >= 0),
    -- Units free to sell; a reservation takes units out, a release puts them back.
    stock       integer     NOT NULL CHECK (stock >= 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
-- Keyset pagination and search walk products by (name, id).
CREATE INDEX products_name_id ON products (name, id);
CREATE INDEX products_category ON products (category_id, name, id);

-- One row per order: the unique key makes a reservation happen at most once per order.
-- 'rejected' and a 'released' row with no lines are tombstones that keep a late or repeated
-- OrderPlaced from reserving anything.
CREATE TABLE reservations (
    order_id   uuid        PRIMARY KEY,
    status     text        NOT NULL
               CHECK (status IN ('reserved', 'released', 'fulfilled', 'rejected')),
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE reservation_lines (
    order_id   uuid    NOT NULL REFERENCES reservations (order_id) ON DELETE CASCADE,
    product_id uuid    NOT NULL REFERENCES products (id),
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, product_id)
);

-- Visit statistics: counters only, no row per visit, so nothing can be tied to a visitor.
-- No customer id, no IP, no time finer than a day, a location no finer than city and region
-- (policy 1.2, 1.11, 3.2.9). '' means "not given".
CREATE TABLE page_hits (
    day           date   NOT NULL,
    path          text   NOT NULL,
    referrer_host text   NOT NULL DEFAULT '',
    city          text   NOT NULL DEFAULT '',
    region        text   NOT NULL DEFAULT '',
    hits          bigint NOT NULL DEFAULT 0,
    PRIMARY KEY (day, path, referrer_host, city, region)
);
