-- Orders known to be cancelled (from OrderCancelled): a dispatch request that arrives after
-- the cancellation releases nothing to the courier (data minimisation, DESIGN §2).
CREATE TABLE cancelled_orders (
    order_id     uuid PRIMARY KEY,
    cancelled_at timestamptz NOT NULL DEFAULT now()
);
