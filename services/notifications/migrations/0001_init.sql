-- The delivery log: what was sent to whom (by customer_id only), never the address or name.
CREATE TABLE deliveries (
    notification_id uuid        PRIMARY KEY,
    customer_id     uuid        NOT NULL,
    kind            text        NOT NULL
        CHECK (kind IN ('welcome', 'order_dispatched', 'order_delivered', 'order_cancelled')),
    channel         text        NOT NULL CHECK (channel IN ('email')),
    template        text        NOT NULL,
    -- Unknown when no release came (skipped) or the mail server never answered (failed).
    locale          text        CHECK (locale IN ('ru', 'kk', 'en')),
    status          text        NOT NULL CHECK (status IN ('sent', 'failed', 'skipped')),
    -- Why a notification was skipped or failed: a code such as 'erased', never a message text.
    reason          text,
    order_ref       text,
    -- The customers service's disclosure register entry for the address used.
    release_id      uuid,
    message_id      uuid        NOT NULL,
    at              timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX deliveries_customer ON deliveries (customer_id, at);
-- One sent notification per (kind, customer, order): a second event with another id sends nothing.
CREATE UNIQUE INDEX deliveries_sent_once
    ON deliveries (kind, customer_id, coalesce(order_ref, '')) WHERE status = 'sent';
