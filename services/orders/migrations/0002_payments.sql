-- Card payments, refunds, courier timeouts, IP statistics (policy 5.6), velocity counters.

-- Set when a dispatched order got no courier confirmation in time (support looks at it).
ALTER TABLE orders ADD COLUMN needs_attention_at timestamptz;
CREATE INDEX orders_dispatched_since ON orders (updated_at)
    WHERE status = 'dispatched' AND needs_attention_at IS NULL;
CREATE INDEX orders_needing_attention ON orders (needs_attention_at)
    WHERE needs_attention_at IS NOT NULL;

-- One card payment per order, asked of a bank adapter; no card data ever reaches the shop.
CREATE TABLE payments (
    id         uuid PRIMARY KEY,
    order_id   uuid        NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    bank       text        NOT NULL,
    amount     bigint      NOT NULL CHECK (amount > 0),
    currency   text        NOT NULL DEFAULT 'KZT',
    status     text        NOT NULL CHECK (status IN ('requested', 'succeeded', 'declined',
                               'cancelled', 'refund_requested', 'refunded')),
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX payments_open_by_expiry ON payments (expires_at) WHERE status = 'requested';

-- Bank notifications applied, by the bank's event id and a hash of the body: a replay of
-- the same event changes nothing; the same id with another body is refused.
CREATE TABLE payment_callbacks (
    bank        text        NOT NULL,
    event_id    uuid        NOT NULL,
    payment_id  uuid        NOT NULL REFERENCES payments (id) ON DELETE CASCADE,
    status      text        NOT NULL,
    body_hash   text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (bank, event_id)
);

-- IP statistics of checkouts (policy 5.6): daily counts per network (/24, /48) and at most
-- city and region. No customer id, no order id, no full address: nothing joins a person.
CREATE TABLE checkout_network_stats (
    day       date    NOT NULL,
    network   cidr    NOT NULL,
    geo_city   text    NOT NULL DEFAULT '',
    geo_region text    NOT NULL DEFAULT '',
    checkouts integer NOT NULL CHECK (checkouts > 0),
    PRIMARY KEY (day, network, geo_city, geo_region)
);

-- Velocity: one row per checkout attempt (a hash of the customer and Idempotency-Key, so
-- retries of one request count once) per account or network and minute. Kept a few minutes
-- only and never joined to the statistics above.
CREATE TABLE checkout_velocity (
    scope        text        NOT NULL CHECK (scope IN ('account', 'network')),
    subject      text        NOT NULL,
    window_start timestamptz NOT NULL,
    attempt      text        NOT NULL,
    PRIMARY KEY (scope, subject, window_start, attempt)
);

-- The parcel weight catalog reported with the reservation (for a dispatch asked later).
ALTER TABLE orders ADD COLUMN weight_g integer CHECK (weight_g >= 0);
