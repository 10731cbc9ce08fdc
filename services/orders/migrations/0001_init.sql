-- Orders keeps no personal data: a person is only a customer_id (a random uuid).

-- Carts (policy 1.10): anonymous by cookie (customer_id NULL) or tied to a customer.
CREATE TABLE carts (
    id          uuid PRIMARY KEY,
    customer_id uuid UNIQUE,
    created_at  timestamptz NOT NULL DEFAULT now(),
    updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX carts_anonymous_updated ON carts (updated_at) WHERE customer_id IS NULL;

CREATE TABLE cart_items (
    cart_id    uuid        NOT NULL REFERENCES carts (id) ON DELETE CASCADE,
    product_id uuid        NOT NULL,
    quantity   integer     NOT NULL CHECK (quantity BETWEEN 1 AND 99),
    added_at   timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (cart_id, product_id)
);

CREATE TABLE orders (
    id             uuid PRIMARY KEY,
    order_ref      text        NOT NULL UNIQUE,
    -- NULL once the customer is erased (totals stay for accounting, unlinked).
    customer_id    uuid,
    status         text        NOT NULL CHECK (status IN ('placed', 'awaiting_payment', 'paid',
                                   'dispatched', 'delivered', 'cancelled', 'failed')),
    payment_method text        NOT NULL CHECK (payment_method IN ('card', 'cash_on_delivery')),
    courier        text        NOT NULL,
    total_amount   bigint      NOT NULL CHECK (total_amount >= 0),
    currency       text        NOT NULL DEFAULT 'KZT',
    created_at     timestamptz NOT NULL DEFAULT now(),
    updated_at     timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX orders_customer_newest ON orders (customer_id, created_at DESC, id DESC);

-- A snapshot of each line as the catalog priced it at checkout.
CREATE TABLE order_lines (
    order_id   uuid    NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    line_no    integer NOT NULL,
    product_id uuid    NOT NULL,
    sku        text    NOT NULL,
    name       text    NOT NULL,
    unit_price bigint  NOT NULL CHECK (unit_price >= 0),
    quantity   integer NOT NULL CHECK (quantity > 0),
    PRIMARY KEY (order_id, line_no),
    UNIQUE (order_id, product_id)
);

CREATE TABLE order_status_history (
    id       bigserial PRIMARY KEY,
    order_id uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE,
    status   text        NOT NULL,
    cause    text        NOT NULL,
    at       timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE INDEX order_status_history_order ON order_status_history (order_id, id);

-- Checkout idempotency: one order per (customer, Idempotency-Key), for one request body.
CREATE TABLE checkout_requests (
    customer_id     uuid        NOT NULL,
    idempotency_key text        NOT NULL,
    request_hash    text        NOT NULL,
    -- The key is claimed before the order row is written, in the same transaction.
    order_id        uuid        NOT NULL REFERENCES orders (id) ON DELETE CASCADE
                                    DEFERRABLE INITIALLY DEFERRED,
    created_at      timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (customer_id, idempotency_key)
);

-- Fulfilment: one dispatch per order, asked of customers (who releases it to the courier).
CREATE TABLE dispatches (
    id         uuid PRIMARY KEY,
    order_id   uuid        NOT NULL UNIQUE REFERENCES orders (id) ON DELETE CASCADE,
    courier    text        NOT NULL,
    status     text        NOT NULL CHECK (status IN ('requested', 'released', 'refused',
                               'delivered', 'failed')),
    release_id uuid,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);

-- Courier callbacks applied, by the courier's event id: a replay changes nothing.
CREATE TABLE courier_callbacks (
    courier     text        NOT NULL,
    event_id    uuid        NOT NULL,
    dispatch_id uuid        NOT NULL REFERENCES dispatches (id) ON DELETE CASCADE,
    status      text        NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (courier, event_id)
);
